import { afterEach, describe, expect, it } from 'vitest';
import { csvField, isoTime } from '../../../src/hub/history/history-export.js';
import { cleanup, message, recorder } from './helpers.js';

afterEach(cleanup);

const T0 = Date.UTC(2025, 2, 3, 4, 5, 6, 7);

async function text(gen: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of gen) out += chunk;
  return out;
}

/** An RFC 4180 reader: quoted fields may hold commas, CRLF and doubled quotes. */
function parseCsv(csv: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < csv.length; i++) {
    const c = csv[i]!;
    if (quoted) {
      if (c === '"' && csv[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && csv[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  expect(field).toBe(''); // every record ends with CRLF
  return rows;
}

describe('export', () => {
  it('CSV is RFC 4180 with ISO-8601 UTC and epoch ms columns; odd topics and dotted keys read back', async () => {
    const rec = recorder();
    const topic = 'site "A",1/dev';
    rec.record(message(topic, '{"a.b":1.5,"c/d":[2]}', T0));
    rec.record(message(topic, '{"a.b":-3}', T0 + 1000));
    const csv = await text(rec.export({ topic }, { format: 'csv' }));
    expect(csv.split('\r\n')[1]).toBe(`2025-03-03T04:05:06.007Z,${T0},"site ""A"",1/dev",/a.b,1.5,`);
    expect(parseCsv(csv)).toEqual([
      ['time', 'epoch_ms', 'topic', 'field', 'value', 'unit'],
      ['2025-03-03T04:05:06.007Z', String(T0), topic, '/a.b', '1.5', ''],
      ['2025-03-03T04:05:06.007Z', String(T0), topic, '/c~1d/0', '2', ''],
      ['2025-03-03T04:05:07.007Z', String(T0 + 1000), topic, '/a.b', '-3', ''],
    ]);
  });

  it('one series alone, with its unit, over a time range', async () => {
    const rec = recorder();
    for (let i = 0; i < 5; i++) rec.record(message('testincr', `t=2${i}.5C, h=40%.`, T0 + i * 60_000));
    const csv = await text(
      rec.export({ topic: 'testincr', path: ['t'] }, { format: 'csv', from: T0 + 60_000, to: T0 + 180_000 }),
    );
    expect(
      parseCsv(csv)
        .slice(1)
        .map((r) => [r[1], r[3], r[4], r[5]]),
    ).toEqual([
      [String(T0 + 60_000), '/t', '21.5', '°C'],
      [String(T0 + 120_000), '/t', '22.5', '°C'],
      [String(T0 + 180_000), '/t', '23.5', '°C'],
    ]);
  });

  it('NDJSON: one object per line with the path as an array', async () => {
    const rec = recorder();
    rec.record(message('j', '{"x.y":{"z":[0,7]}}', T0));
    const lines = (await text(rec.export({ topic: 'j' }, { format: 'ndjson' }))).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { time: '2025-03-03T04:05:06.007Z', epochMs: T0, topic: 'j', path: ['x.y', 'z', 0], value: 0 },
      { time: '2025-03-03T04:05:06.007Z', epochMs: T0, topic: 'j', path: ['x.y', 'z', 1], value: 7 },
    ]);
  });

  it('streams: the first chunk comes before the rest is read, and the recorder keeps committing meanwhile', async () => {
    const rec = recorder();
    for (let i = 0; i < 20_000; i++) rec.record(message('s', String(i), T0 + i));
    const it = rec
      .export({ topic: 's', path: [] }, { format: 'csv', chunkChars: 1000 })
      [Symbol.asyncIterator]();
    await it.next(); // header
    const first = await it.next();
    expect(first.value.length).toBeLessThan(1100); // about one chunk, not the whole export
    rec.record(message('s', '-1', T0 + 50_000));
    await rec.flush(); // the export reads its own snapshot: the writer is not blocked
    expect(rec.stats().samples).toBe(20_001);
    let rows = first.value.split('\r\n').length - 1;
    for (let r = await it.next(); !r.done; r = await it.next()) rows += r.value.split('\r\n').length - 1;
    expect(rows).toBe(20_000);
  });

  it('a topic or series with no data gives the header only', async () => {
    const rec = recorder();
    expect(await text(rec.export({ topic: 'none' }, { format: 'csv' }))).toBe(
      'time,epoch_ms,topic,field,value,unit\r\n',
    );
    expect(await text(rec.export({ topic: 'none' }, { format: 'ndjson' }))).toBe('');
  });

  it('the fast ISO formatter agrees with Date#toISOString, day boundaries and before 1970 included', () => {
    const samples = [0, -1, 86_399_999, 86_400_000, Date.UTC(2024, 1, 29, 23, 59, 59, 999), -86_400_001];
    for (let i = 0; i < 2000; i++) samples.push(Math.floor((Math.random() - 0.3) * 4e12));
    for (const ms of samples) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('CSV fields are quoted only when they must be', () => {
    expect(['plain', 'a,b', 'say "hi"', 'two\nlines', 'cr\r'].map(csvField)).toEqual([
      'plain',
      '"a,b"',
      '"say ""hi"""',
      '"two\nlines"',
      '"cr\r"',
    ]);
  });
});
