/**
 * The writer's fast path for flat JSON gives exactly the general path's fields whenever it answers,
 * and answers for what boards send. The general path (payloadFields: UTF-8 and control-character
 * checks, JSON.parse, the walk) is the reference.
 */
import { describe, expect, it } from 'vitest';
import { FlatJsonFields } from '../../../src/hub/history/flat-json-fields.js';
import {
  DEFAULT_PARSE_LIMITS,
  type PayloadField,
  payloadFields,
} from '../../../src/hub/history/payload-fields.js';

/** The fast path's fields of `text` (inside a larger buffer, as in a hand-over), or undefined when it declines. */
function fast(reader: FlatJsonFields, bytes: Buffer, maxFields = DEFAULT_PARSE_LIMITS.maxFields) {
  const buf = Buffer.concat([Buffer.from('{"x":1}'), bytes, Buffer.from('9}')]);
  const n = reader.read(buf, 7, 7 + bytes.length, maxFields);
  if (n < 0) return undefined;
  return Array.from(
    { length: n },
    (_, i): PayloadField => ({ path: reader.paths[i]!, value: reader.values[i]! }),
  );
}

/** Fields compared as the history stores them: path, value (-0 kept apart from 0) and unit. */
const shape = (fields: PayloadField[]) =>
  fields.map((f) => ({ path: [...f.path], value: Object.is(f.value, -0) ? '-0' : f.value, unit: f.unit }));

describe('the flat JSON fast path', () => {
  const reader = new FlatJsonFields();

  it('reads what boards send, with the general path’s fields', () => {
    const payloads = [
      '{"t":24.1,"h":26.5,"stamp":"x00000000000000000000000000000000000000000000abcd"}',
      '{"temp":21.3}',
      '{"temperature": 22.75, "humidity": 41, "pressure": 1013.2, "ok": true, "err": false, "note": null}',
      ' {\r\n\t"rssi" : -67 , "heap":123456, "uptime_s": 86400 }\n',
      '{}',
      '{"a.b":1,"a/b":2,"a~b":3}',
      '{"v":-0,"w":0,"x":1e3,"y":-2.5E-3,"z":0.000001,"big":123456789012345}',
      '{"state":"ready","id":"board-7"}',
    ];
    for (const text of payloads) {
      const bytes = Buffer.from(text);
      const got = fast(reader, bytes);
      expect(got, text).toBeDefined();
      expect(shape(got!), text).toEqual(shape(payloadFields(bytes)));
    }
    // The one-key paths are the general path's shared arrays: the writer finds series by them.
    const bytes = Buffer.from('{"temp":21.3}');
    expect(fast(reader, bytes)![0]!.path).toBe(payloadFields(bytes)[0]!.path);
  });

  it('declines what only the general path may decide', () => {
    const declined = [
      '{"a":{"b":1}}', // nested
      '{"a":[1,2]}',
      '[1,2]',
      '24.1',
      't=24.1C',
      '{"t":"24.1 C"}', // a string the general path reads as a number
      '{"relay":"ON"}',
      '{"s":"tab\\tescape"}',
      '{"caf\u00e9":1}', // not ASCII
      '{"1":5,"b":2}', // JSON.parse orders integer keys first
      '{"a":1,"a":null}', // the last one wins
      '{"n":1234567890123456789}', // more than 15 digits
      '{"n":1e400}',
      '{"n":1.5e-30}',
      '{"n":01}', // not JSON
      '{"n":1.}',
      '{"n":.5}',
      '{"n":+1}',
      '{"n":1,}',
      '{"n":1}x',
      '{"n":1',
      '{"n":tru}',
      '{"a\u0001":1}',
      '\u000b{"a":1}',
      '',
    ];
    for (const text of declined) expect(fast(reader, Buffer.from(text)), text).toBeUndefined();
  });

  it('keeps to maxFields, and still declines what is not JSON after the last field it keeps', () => {
    const text = `{${Array.from({ length: 10 }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    expect(shape(fast(reader, Buffer.from(text), 3)!)).toEqual(
      shape(payloadFields(Buffer.from(text), { ...DEFAULT_PARSE_LIMITS, maxFields: 3 })),
    );
    expect(fast(reader, Buffer.from('{"a":1,"b":2,"c":01}'), 1)).toBeUndefined();
  });

  it('agrees with the general path on 50,000 generated payloads, and answers most flat ones', () => {
    let seed = 12345;
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const keys = ['t', 'h', 'temp', 'a', 'b', 'stamp', '9', '-1', 'x y', 'é', 'a\\"b', '', '__proto__', 'on'];
    const numbers = () =>
      pick([
        () => String(Math.round((rand() - 0.5) * 1e6) / 10 ** Math.floor(rand() * 8)),
        () => (rand() * 1e21).toExponential(Math.floor(rand() * 20)),
        () =>
          `${pick(['', '-'])}${pick(['0', '1', '12', '00', '01', '123456789012345678'])}${pick(['', '.', '.5', '.000', '.12345678901234'])}${pick(['', 'e', 'E+2', 'e-22', 'e23', 'e-400', 'e+'])}`,
      ])();
    const value = (): string =>
      pick([
        numbers,
        numbers,
        () => pick(['true', 'false', 'null', 'tru', 'nul']),
        () =>
          `"${pick(['x', 'ready', ' 24.1', '24.1 C', 'on', 'Off', '-', '   ', '', 'a\\nb', 'é', 'x'.repeat(70), `1${'x'.repeat(70)}`])}"`,
        () => `{"k":${numbers()}}`,
        () => `[${numbers()}]`,
      ])();
    const ws = () => pick(['', '', ' ', '\n', '\t', '\r\n', '\u000b']);
    let answered = 0;
    let flatValid = 0;
    for (let i = 0; i < 50_000; i++) {
      const n = Math.floor(rand() * 5);
      const pairs = Array.from({ length: n }, () => `${ws()}"${pick(keys)}"${ws()}:${ws()}${value()}${ws()}`);
      let text = `${ws()}{${pairs.join(',')}}${ws()}`;
      if (rand() < 0.1) {
        // A damaged payload: a byte changed, cut short or doubled.
        const at = Math.floor(rand() * text.length);
        text = pick([
          () => text.slice(0, at),
          () => text.slice(0, at) + pick(['"', ',', '}', '{', '\u0000', '\\', '0', ' ']) + text.slice(at + 1),
          () => text + text,
        ])();
      }
      const bytes = Buffer.from(text);
      const general = payloadFields(bytes);
      const got = fast(reader, bytes);
      let parses = true;
      try {
        JSON.parse(text);
      } catch {
        parses = false;
      }
      if (parses && !/[{[]/.test(text.trim().slice(1))) flatValid++;
      if (got === undefined) continue;
      answered++;
      expect(shape(got), JSON.stringify(text)).toEqual(shape(general));
    }
    // The fast path is taken for a good share of them, not declined for everything.
    expect(answered).toBeGreaterThan(flatValid / 3);
  });
});
