import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { HistoryOptions } from '../../../src/hub/history/index.js';
import { cleanup, DAY, HOUR, MINUTE, message, recorder } from './helpers.js';

afterEach(cleanup);

const T0 = Date.UTC(2025, 0, 1);

/** The topics the message log has rows for, read from the file. */
function topicRows(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare<[], { topic: string }>('SELECT topic FROM topics ORDER BY topic')
      .all()
      .map((r) => r.topic);
  } finally {
    db.close();
  }
}

async function ndjson(gen: AsyncIterable<string>): Promise<Record<string, unknown>[]> {
  let text = '';
  for await (const chunk of gen) text += chunk;
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('rollups', () => {
  it('1-minute and 1-hour rollups hold n, min, max, sum and last, across commits', async () => {
    const rec = recorder();
    // Minute 0: 3, 1, 2 (two commits); minute 1: 10; next hour: 5.
    rec.record(message('r/t', '3', T0 + 1000));
    rec.record(message('r/t', '1', T0 + 2000));
    await rec.flush();
    rec.record(message('r/t', '2', T0 + 59_000));
    rec.record(message('r/t', '10', T0 + MINUTE + 1));
    rec.record(message('r/t', '5', T0 + HOUR + 1));
    await rec.flush();
    const minute = await ndjson(rec.export({ topic: 'r/t', path: [] }, { format: 'ndjson', tier: 'minute' }));
    expect(minute.map((r) => [r.epochMs, r.n, r.min, r.max, r.avg, r.last])).toEqual([
      [T0, 3, 1, 3, 2, 2],
      [T0 + MINUTE, 1, 10, 10, 10, 10],
      [T0 + HOUR, 1, 5, 5, 5, 5],
    ]);
    const hour = await ndjson(rec.export({ topic: 'r/t', path: [] }, { format: 'ndjson', tier: 'hour' }));
    expect(hour.map((r) => [r.epochMs, r.n, r.min, r.max, r.avg, r.last])).toEqual([
      [T0, 4, 1, 10, 4, 10],
      [T0 + HOUR, 1, 5, 5, 5, 5],
    ]);
  });
});

describe('retention (injected clock)', () => {
  async function aged() {
    let now = T0;
    const rec = recorder({ now: () => now });
    for (const topic of ['keep/a', 'lab/short', 'lab/other']) {
      for (let d = 0; d < 3; d++) rec.record(message(topic, String(d), T0 + d * DAY));
    }
    await rec.flush();
    const count = async (topic: string, tier: 'raw' | 'minute' | 'hour') =>
      (await rec.query({ topic, path: [] }, { from: 0, to: T0 + 400 * DAY, width: 1000, tier }))?.points
        .length;
    const tiers = (topic: string) =>
      Promise.all([count(topic, 'raw'), count(topic, 'minute'), count(topic, 'hour')]);
    return { rec, tiers, setNow: (t: number) => (now = t) };
  }

  it('raw samples go after 7 days, 1-minute rollups after 30, hourly ones stay', async () => {
    const { rec, tiers, setNow } = await aged();
    setNow(T0 + 8 * DAY + 1); // day 0 and 1 are older than 7 days, day 2 is not
    await rec.runRetention();
    expect(await tiers('keep/a')).toEqual([1, 3, 3]);
    setNow(T0 + 31 * DAY);
    await rec.runRetention();
    expect(await tiers('keep/a')).toEqual([0, 2, 3]);
    setNow(T0 + 5000 * DAY);
    await rec.runRetention();
    expect(await tiers('keep/a')).toEqual([0, 0, 3]);
  });

  it('a rule for a topic filter overrides the defaults for its topics; the first matching rule wins', async () => {
    let now = T0;
    const rec = recorder({
      now: () => now,
      retention: [
        { filter: 'lab/short', raw: DAY, hour: 10 * DAY },
        { filter: 'lab/#', raw: 2 * DAY },
      ],
    });
    for (const topic of ['keep/a', 'lab/short', 'lab/other']) {
      for (let d = 0; d < 3; d++) rec.record(message(topic, String(d), T0 + d * DAY));
    }
    now = T0 + 2 * DAY + 12 * HOUR;
    await rec.runRetention();
    const raw = async (topic: string) =>
      (
        await rec.query({ topic, path: [] }, { from: 0, to: T0 + 9 * DAY, width: 100, tier: 'raw' })
      )?.points.map((p) => p.avg);
    expect(await raw('keep/a')).toEqual([0, 1, 2]);
    expect(await raw('lab/other')).toEqual([1, 2]);
    expect(await raw('lab/short')).toEqual([2]);
    now = T0 + 12 * DAY;
    await rec.runRetention();
    const hourly = async (topic: string) =>
      (await rec.query({ topic, path: [] }, { from: 0, to: T0 + 9 * DAY, width: 100, tier: 'hour' }))?.points
        .length;
    expect([await hourly('keep/a'), await hourly('lab/short')]).toEqual([3, 1]);
  });

  it('a series whose every sample and rollup retention deleted is gone from the list; its logged messages stay', async () => {
    let now = T0;
    const rec = recorder({
      now: () => now,
      retention: [{ filter: 'brief/#', raw: DAY, minute: DAY, hour: DAY }],
    });
    rec.record(message('brief/t', '1', T0));
    rec.record(message('long/t', '1', T0));
    await rec.flush();
    now = T0 + 2 * DAY;
    const result = await rec.runRetention();
    expect(result.deletedSeries).toBe(1);
    expect((await rec.listSeries()).map((s) => s.topic)).toEqual(['long/t']);
    expect((await rec.messages('brief/t')).map((m) => m.payload.toString())).toEqual(['1']);
    expect(topicRows(rec.file)).toEqual(['brief/t', 'long/t']);
    // It comes back when the topic publishes again.
    rec.record(message('brief/t', '2', now));
    expect((await rec.listSeries()).map((s) => s.topic)).toEqual(['brief/t', 'long/t']);
  });

  const CAP = 1024 * 1024;
  const CAP_NOW = T0 + 6 * DAY;

  /** 6 days of 10 series every 30 s (several times the cap), after one text message at T0. */
  async function overCap(options: Partial<HistoryOptions> = {}) {
    const rec = recorder({ now: () => CAP_NOW, maxBytes: CAP, ...options });
    rec.record(message('cap/once', 'hello', T0));
    for (let t = T0; t < CAP_NOW; t += 30_000) {
      for (let s = 0; s < 10; s++) rec.record(message(`cap/${s}`, String(s + (t % 1000)), t));
      if (t % 3_600_000 === 0) await rec.flush(); // (pending is capped at maxPendingMessages)
    }
    await rec.flush();
    expect(rec.stats().bytes).toBeGreaterThan(CAP);
    return rec;
  }

  it('over the size cap the oldest data goes first, the newest stays; a topic left without messages goes', async () => {
    const rec = await overCap();
    for (let i = 0; i < 50 && rec.stats().bytes > CAP; i++) await rec.runRetention();
    expect(rec.stats().bytes).toBeLessThanOrEqual(CAP);
    // What is left is the newest part: the last samples are there, the first day's are gone.
    const raw = async (from: number, to: number) =>
      (await rec.query({ topic: 'cap/0', path: [] }, { from, to, width: 10, tier: 'raw' }))!.points;
    expect((await raw(CAP_NOW - 60_000, CAP_NOW)).at(-1)?.t).toBe(CAP_NOW - 30_000);
    expect(await raw(T0, T0 + DAY)).toEqual([]);
    // The message at T0 went with the raw data of its time, and its topic with it.
    expect(await rec.messages('cap/once')).toEqual([]);
    expect(topicRows(rec.file)).not.toContain('cap/once');
    expect(topicRows(rec.file)).toContain('cap/0');
  }, 180_000); // heavy: ~170,000 messages recorded and swept

  it('the size cap goes on pruning where it was after a restart, without a sweep to find the oldest data first', async () => {
    const first = await overCap();
    const dir = dirname(first.file);
    // A first sweep finds how far back each tier goes; the second prunes; still over the cap.
    expect((await first.runRetention()).deletedRows).toBe(0);
    expect((await first.runRetention()).deletedRows).toBeGreaterThan(0);
    expect(first.stats().bytes).toBeGreaterThan(CAP);
    await first.close();
    const again = recorder({ dir, now: () => CAP_NOW, maxBytes: CAP });
    expect((await again.runRetention()).deletedRows).toBeGreaterThan(0);
  }, 180_000); // heavy: ~170,000 messages recorded and swept
});
