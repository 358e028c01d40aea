import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryRecorder } from '../../../src/hub/history/index.js';
import { startBroker } from '../../helpers/broker.js';
import { cleanup, message, recorder, tempDir, until } from './helpers.js';

afterEach(cleanup);

describe('recording a real broker', () => {
  it('records what MQTT clients publish over a socket as series and logged messages, and both survive a restart', async () => {
    const b = await startBroker();
    const dir = tempDir();
    let rec = new HistoryRecorder({ dir, commitIntervalMs: 1e9 });
    rec.attach(b.broker);
    const client = await mqtt.connectAsync(b.url, { protocolVersion: 5, clientId: 'board-1' });
    try {
      await client.publishAsync('testincr', 't=24.1C, h=26.5%.', { qos: 1 });
      await client.publishAsync('testincr', 't=24.2C, h=26.3%.', { qos: 1 });
      await client.publishAsync('output', 'on', { qos: 1, retain: true });
      await client.publishAsync('hello', 'my name is blah', { qos: 0 });
      await client.publishAsync('board/json', '{"sensor.temp":21.5,"sensor":{"temp":19}}', { qos: 1 });
      await client.publishAsync('board/props', '7', {
        qos: 1,
        properties: {
          contentType: 'text/plain',
          responseTopic: 'board/reply',
          correlationData: Buffer.from([1, 2, 3]),
          userProperties: { site: 'lab', tag: ['a', 'b'] },
          messageExpiryInterval: 60,
        },
      });
      await until(() => rec.stats().recorded >= 6, 'six recorded messages');
    } finally {
      await client.endAsync();
    }
    const check = async (r: HistoryRecorder) => {
      const series = (await r.listSeries()).map((s) => [s.topic, s.path, s.unit]);
      expect(series).toEqual([
        ['board/json', ['sensor', 'temp'], undefined],
        ['board/json', ['sensor.temp'], undefined],
        ['board/props', [], undefined],
        ['output', [], undefined],
        ['testincr', ['h'], '%'],
        ['testincr', ['t'], '°C'],
      ]);
      const lastHour = { from: Date.now() - 3_600_000, to: Date.now() + 60_000 };
      const t = await r.query({ topic: 'testincr', path: ['t'] }, { ...lastHour, width: 100 });
      expect(t?.points.map((p) => p.avg)).toEqual([24.1, 24.2]);
      expect(
        (
          await r.query({ topic: 'board/json', path: ['sensor.temp'] }, { ...lastHour, width: 10 })
        )?.points.map((p) => p.avg),
      ).toEqual([21.5]);
      const [props] = await r.messages('board/props');
      expect(props?.clientId).toBe('board-1');
      expect(props?.properties?.contentType).toBe('text/plain');
      expect(props?.properties?.responseTopic).toBe('board/reply');
      expect(props?.properties?.correlationData).toEqual(Buffer.from([1, 2, 3]));
      expect(props?.properties?.userProperties).toEqual({ site: 'lab', tag: ['a', 'b'] });
      const [output] = await r.messages('output');
      expect([output?.qos, output?.retain, output?.payload.toString()]).toEqual([1, true, 'on']);
      const [hello] = await r.messages('hello');
      expect([hello?.qos, hello?.retain, hello?.payload.toString()]).toEqual([0, false, 'my name is blah']);
      expect((await r.messages('testincr')).map((m) => m.payload.toString())).toEqual([
        't=24.2C, h=26.3%.',
        't=24.1C, h=26.5%.',
      ]);
    };
    await check(rec);
    await rec.close();
    await b.close();
    rec = new HistoryRecorder({ dir, commitIntervalMs: 1e9 });
    try {
      await check(rec);
    } finally {
      await rec.close();
    }
  });

  it('commits on its own timer about once a second, and never on the publish path', async () => {
    const b = await startBroker();
    const rec = recorder({ commitIntervalMs: 1000 });
    rec.attach(b.broker);
    const reader = new Database(rec.file, { readonly: true });
    const onDisk = () =>
      (reader.prepare('SELECT count(*) AS n FROM message_blocks').get() as { n: number }).n;
    const client = await mqtt.connectAsync(b.url, { clientId: 'timer' });
    try {
      await client.publishAsync('timer/t', '1', { qos: 1 });
      await until(() => rec.stats().recorded === 1, 'the message to be recorded');
      expect(onDisk()).toBe(0); // recorded, only in memory
      await until(() => onDisk() === 1, 'the timer to commit it');
      await until(() => rec.stats().commits > 0, "the worker's report of the commit");
      expect(rec.stats()).toMatchObject({ commits: 1, pending: 0 });
    } finally {
      reader.close();
      await client.endAsync();
      await b.close();
    }
  });

  it("parses and commits in a worker thread: the broker's event loop keeps turning while a large batch is written", async () => {
    const rec = recorder({ maxPendingMessages: 100_000 });
    const t = Date.now();
    for (let i = 0; i < 10_000; i++)
      rec.record(
        message(`big/${i % 50}`, JSON.stringify({ a: i, b: i / 2, c: [i, i, i], d: { e: i } }), t + i),
      );
    let turns = 0;
    let done = false;
    const flushed = rec.flush().then(() => {
      done = true;
    });
    // Each turn is one pass of this thread's event loop; a commit on this thread would allow none.
    while (!done && turns < 1_000_000) {
      await new Promise((r) => setImmediate(r));
      turns++;
    }
    await flushed;
    expect(turns).toBeGreaterThan(3);
    expect(rec.stats()).toMatchObject({ recorded: 10_000, pending: 0, samples: 10_000 * 6, commits: 1 });
  });

  it('detach stops recording; close commits what was pending', async () => {
    const b = await startBroker();
    const dir = tempDir();
    const rec = new HistoryRecorder({ dir, commitIntervalMs: 1e9 });
    rec.attach(b.broker);
    const client = await mqtt.connectAsync(b.url, { clientId: 'detach' });
    try {
      await client.publishAsync('d/1', '1', { qos: 1 });
      await until(() => rec.stats().recorded === 1, 'd/1');
      rec.detach();
      await client.publishAsync('d/2', '2', { qos: 1 });
      await rec.close();
    } finally {
      await client.endAsync();
      await b.close();
    }
    const again = new HistoryRecorder({ dir, commitIntervalMs: 1e9 });
    try {
      expect((await again.listSeries()).map((s) => s.topic)).toEqual(['d/1']);
    } finally {
      await again.close();
    }
  });
});

describe('what is recorded', () => {
  it('everything but $SYS by default; include and exclude filters narrow it', async () => {
    const all = recorder();
    for (const topic of ['$SYS/broker/uptime', 'a/b', 'lab/x/temp', 'lab/secret'])
      all.record(message(topic, '1', 1000));
    expect((await all.listSeries()).map((s) => s.topic)).toEqual(['a/b', 'lab/secret', 'lab/x/temp']);
    const some = recorder({ include: ['lab/#'], exclude: ['lab/secret'] });
    for (const topic of ['$SYS/broker/uptime', 'a/b', 'lab/x/temp', 'lab/secret'])
      some.record(message(topic, '1', 1000));
    expect((await some.listSeries()).map((s) => s.topic)).toEqual(['lab/x/temp']);
    // `#` matches no topic starting with `$` (MQTT 4.7.2), with or without the default exclusion.
    const topics = ['$SYS/broker/uptime', '$custom/t', 'a/b', 'lab/x/temp', 'lab/secret'];
    const recorded = async (options: Parameters<typeof recorder>[0]) => {
      const r = recorder(options);
      for (const topic of topics) r.record(message(topic, '1', 1000));
      return (await r.listSeries()).map((s) => s.topic);
    };
    expect(await recorded({ exclude: [] })).toEqual(['a/b', 'lab/secret', 'lab/x/temp']);
    expect(await recorded({ exclude: ['$SYS/#', 'lab/secret'] })).toEqual(['a/b', 'lab/x/temp']);
    expect(await recorded({ include: ['$SYS/#'], exclude: [] })).toEqual(['$SYS/broker/uptime']);
    expect(await recorded({ include: ['#', '$custom/#'] })).toEqual([
      '$custom/t',
      'a/b',
      'lab/secret',
      'lab/x/temp',
    ]);
  });

  it('an invalid filter in the options is a clear error naming it', () => {
    expect(() => recorder({ include: ['a/#/b'] })).toThrow(/include filter "a\/#\/b"/);
    expect(() => recorder({ retention: [{ filter: 'x', raw: -1 }] })).toThrow(/retention of raw for "x"/);
  });

  it('unparseable payloads are logged as messages and make no series', async () => {
    const rec = recorder();
    rec.record(message('bin', Buffer.from([0xff, 0x00, 0xfe]), 1000));
    rec.record(message('prose', 'Test to mothership #1', 1001));
    expect(await rec.listSeries()).toEqual([]);
    expect((await rec.messages('bin'))[0]?.payload).toEqual(Buffer.from([0xff, 0x00, 0xfe]));
    expect((await rec.messages('prose'))[0]?.payload.toString()).toBe('Test to mothership #1');
  });

  it('samples of one series in the same millisecond are all kept, at distinct times', async () => {
    const rec = recorder();
    const t = Date.now();
    for (let i = 0; i < 5; i++) rec.record(message('fast', String(i), t));
    const r = await rec.query({ topic: 'fast', path: [] }, { from: t - 1000, to: t + 1000, width: 10 });
    expect(r?.points.map((p) => [p.t - t, p.avg])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
  });

  it('a full batch drops further messages and counts them instead of growing', async () => {
    const rec = recorder({ maxPendingMessages: 10 });
    for (let i = 0; i < 15; i++) rec.record(message('x', String(i), 1000 + i));
    expect(rec.stats()).toMatchObject({ recorded: 10, droppedMessages: 5, pending: 10 });
    await rec.flush();
    expect(rec.stats()).toMatchObject({ pending: 0, samples: 10 });
  });

  it('past maxSeries new series are dropped and counted, existing ones go on', async () => {
    const rec = recorder({ maxSeries: 2 });
    rec.record(message('s/1', '1', 1000));
    rec.record(message('s/2', '1', 1000));
    rec.record(message('s/3', '1', 1000));
    rec.record(message('s/1', '2', 2000));
    await rec.flush();
    expect((await rec.listSeries()).map((s) => s.topic)).toEqual(['s/1', 's/2']);
    expect(rec.stats()).toMatchObject({ samples: 3, droppedSeries: 1 });
  });
});

describe('the message log', () => {
  it('keeps the last 100 messages per topic, newest first', async () => {
    const rec = recorder();
    for (let i = 0; i < 150; i++) rec.record(message('log/a', `m${i}`, 1000 + i));
    rec.record(message('log/b', 'other', 5000));
    const kept = await rec.messages('log/a', 1000);
    expect(kept).toHaveLength(100);
    expect(kept[0]?.payload.toString()).toBe('m149');
    expect(kept.at(-1)?.payload.toString()).toBe('m50');
    expect(await rec.messages('log/b')).toHaveLength(1);
  });

  it('keeps at most 1 MB per topic: older messages go, a larger payload is cut and says its size', async () => {
    const rec = recorder();
    const big = (fill: number) => Buffer.alloc(600 * 1024, fill);
    rec.record(message('log/big', big(1), 1000));
    rec.record(message('log/big', big(2), 1001));
    expect((await rec.messages('log/big')).map((m) => m.payload[0])).toEqual([2]);
    rec.record(message('log/huge', Buffer.alloc(3 * 1024 * 1024, 7), 1002));
    const [huge] = await rec.messages('log/huge');
    expect(huge?.payload.length).toBe(1024 * 1024);
    expect(huge?.size).toBe(3 * 1024 * 1024);
  });
});

describe('the database file', () => {
  it('is its own file in the data folder, in WAL mode', () => {
    const rec = recorder();
    expect(rec.file.endsWith('history.db')).toBe(true);
    const db = new Database(rec.file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });

  it('a damaged history.db is moved aside, never deleted, and a fresh one started', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'history.db'), Buffer.alloc(8192, 0x41));
    const rec = new HistoryRecorder({ dir, commitIntervalMs: 1e9 });
    try {
      expect(rec.movedAside).toMatch(/history\.db\.corrupt-/);
      expect(readFileSync(rec.movedAside!)).toEqual(Buffer.alloc(8192, 0x41));
      rec.record(message('after', '1', 1000));
      expect((await rec.listSeries()).map((s) => s.topic)).toEqual(['after']);
    } finally {
      await rec.close();
    }
  });
});
