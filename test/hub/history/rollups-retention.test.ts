import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, DAY, HOUR, MINUTE, message, recorder } from './helpers.js';

afterEach(cleanup);

const T0 = Date.UTC(2025, 0, 1);

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

  it('over the size cap the oldest data goes first, the newest stays', async () => {
    const now = T0 + 6 * DAY;
    const cap = 2 * 1024 * 1024;
    const rec = recorder({ now: () => now, maxBytes: cap });
    // 6 days of 20 series every 30 s: several times the cap.
    for (let t = T0; t < now; t += 30_000) {
      for (let s = 0; s < 20; s++) rec.record(message(`cap/${s}`, String(s + (t % 1000)), t));
      if (t % 3_600_000 === 0) await rec.flush(); // (pending is capped at maxPendingMessages)
    }
    await rec.flush();
    const before = rec.stats().bytes;
    expect(before).toBeGreaterThan(cap);
    for (let i = 0; i < 50 && rec.stats().bytes > cap; i++) await rec.runRetention();
    expect(rec.stats().bytes).toBeLessThanOrEqual(cap);
    // What is left is the newest part: the last samples are there, the first day's are gone.
    const raw = async (from: number, to: number) =>
      (await rec.query({ topic: 'cap/0', path: [] }, { from, to, width: 10, tier: 'raw' }))!.points;
    expect((await raw(now - 60_000, now)).at(-1)?.t).toBe(now - 30_000);
    expect(await raw(T0, T0 + DAY)).toEqual([]);
  });
});
