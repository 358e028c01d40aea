import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PARSE_LIMITS, pathPointer, payloadFields } from '../../../src/hub/history/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = JSON.parse(
  readFileSync(join(here, '..', '..', 'fixtures', 'history-payloads.json'), 'utf8'),
) as {
  cases: { name: string; payload?: string; payloadHex?: string; fields: unknown[] }[];
};

describe('payload fields: the fixture table (seeds, JSON, units, garbage)', () => {
  it.each(fixtures.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const payload = c.payloadHex
      ? Buffer.from(c.payloadHex.replace(/ /g, ''), 'hex')
      : Buffer.from(c.payload ?? '');
    expect(payloadFields(payload)).toEqual(c.fields);
  });

  it('the seed 004 telemetry reading is two series with units', () => {
    expect(payloadFields(Buffer.from('t=24.1C, h=26.5%.'))).toEqual([
      { path: ['t'], value: 24.1, unit: '°C' },
      { path: ['h'], value: 26.5, unit: '%' },
    ]);
  });
});

describe('payload fields: bounded work on huge payloads', () => {
  it('a payload over the byte limit is not parsed at all', () => {
    const huge = Buffer.from(JSON.stringify({ t: 1, pad: 'x'.repeat(DEFAULT_PARSE_LIMITS.maxBytes) }));
    expect(payloadFields(huge)).toEqual([]);
    expect(payloadFields(Buffer.from('{"t":1}'))).toEqual([{ path: ['t'], value: 1 }]);
  });

  it('a JSON array of thousands of numbers gives the first maxFields fields only', () => {
    const many = Buffer.from(JSON.stringify(Array.from({ length: 5000 }, (_, i) => i)));
    const fields = payloadFields(many);
    expect(fields).toHaveLength(DEFAULT_PARSE_LIMITS.maxFields);
    expect(fields.at(-1)).toEqual({
      path: [DEFAULT_PARSE_LIMITS.maxFields - 1],
      value: DEFAULT_PARSE_LIMITS.maxFields - 1,
    });
  });

  it('an object of thousands of keys and key=value text of thousands of pairs are capped too', () => {
    const obj = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i]));
    expect(payloadFields(Buffer.from(JSON.stringify(obj)))).toHaveLength(DEFAULT_PARSE_LIMITS.maxFields);
    const text = Array.from({ length: 3000 }, (_, i) => `k${i}=${i}`).join(', ');
    expect(payloadFields(Buffer.from(text), { ...DEFAULT_PARSE_LIMITS, maxFields: 10 })).toHaveLength(10);
  });

  it('JSON nested deeper than maxDepth is walked down to the limit only', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1000; i++) deep = { d: deep };
    expect(payloadFields(Buffer.from(JSON.stringify(deep)))).toEqual([]);
    let shallow: unknown = 1;
    for (let i = 0; i < 3; i++) shallow = { d: shallow };
    expect(payloadFields(Buffer.from(JSON.stringify(shallow)))).toEqual([
      { path: ['d', 'd', 'd'], value: 1 },
    ]);
  });

  it('bytes with control characters are binary (a stamp, zero padding); tabs, CR and LF are text', () => {
    const stamped = Buffer.alloc(64);
    stamped.write('24.5', 20);
    expect(payloadFields(stamped)).toEqual([]);
    expect(payloadFields(Buffer.from('24.1\u0000'))).toEqual([]);
    expect(payloadFields(Buffer.from('t=24.1C,\th=26.5%\r\n'))).toEqual([
      { path: ['t'], value: 24.1, unit: '°C' },
      { path: ['h'], value: 26.5, unit: '%' },
    ]);
  });

  it('a megabyte of prose or binary gives nothing and does not throw', () => {
    expect(payloadFields(Buffer.alloc(1024 * 1024, 0x61))).toEqual([]);
    expect(payloadFields(Buffer.alloc(1024 * 1024, 0xff))).toEqual([]);
    const near = Buffer.from(`a=1 ${'x'.repeat(60_000)}`);
    expect(payloadFields(near)).toEqual([]);
  });
});

describe('field paths as JSON Pointers', () => {
  it('strings in JSON are values only when they read as one: words and numbers in any case and spacing', () => {
    const json = {
      id: 'x1e5',
      hex: 'e3b0c442',
      state: 'ok',
      relay: ' On ',
      fan: 'FALSE',
      t: '+21.5 C',
      dot: '.5',
      neg: '-3 dBm',
      word: 'offline',
    };
    expect(payloadFields(Buffer.from(JSON.stringify(json)))).toEqual([
      { path: ['relay'], value: 1 },
      { path: ['fan'], value: 0 },
      { path: ['t'], value: 21.5, unit: '°C' },
      { path: ['dot'], value: 0.5 },
      { path: ['neg'], value: -3, unit: 'dBm' },
    ]);
  });

  it('escapes ~ and / so every path reads back unambiguously; dots stay dots', () => {
    expect(pathPointer([])).toBe('');
    expect(pathPointer(['a.b', 0])).toBe('/a.b/0');
    expect(pathPointer(['a/b', '~c'])).toBe('/a~1b/~0c');
  });
});
