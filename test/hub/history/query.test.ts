import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, DAY, HOUR, MINUTE, message, recorder } from './helpers.js';

afterEach(cleanup);

const NOW = Date.UTC(2025, 5, 1, 12);
const key = { topic: 'q/temp', path: [] as const };

/** A series every `stepMs` over `spanMs` ending at NOW, values a deterministic zig-zag. */
async function filled(stepMs: number, spanMs: number) {
  const rec = recorder({ now: () => NOW });
  const values: [number, number][] = [];
  for (let t = NOW - spanMs, i = 0; t < NOW; t += stepMs, i++) {
    const v = ((i * 37) % 101) - 50 + i / 1000;
    values.push([t, v]);
    rec.record(message(key.topic, String(v), t));
    if (i % 2000 === 0) await rec.flush();
  }
  return { rec, values };
}

describe('series queries', () => {
  it('return at most 2 × width points, each bucket with the true min, max and average', async () => {
    const { rec, values } = await filled(5000, 2 * HOUR);
    const from = NOW - 2 * HOUR;
    const to = NOW;
    const width = 50;
    const r = (await rec.query(key, { from, to, width, tier: 'raw' }))!;
    expect(r.points.length).toBeLessThanOrEqual(2 * width);
    expect(r.bucketMs).toBeGreaterThan(0);
    for (const p of r.points) {
      const inside = values.filter(([t]) => t >= p.t && t < p.t + r.bucketMs).map(([, v]) => v);
      expect(p.n).toBe(inside.length);
      expect(p.min).toBe(Math.min(...inside));
      expect(p.max).toBe(Math.max(...inside));
      expect(p.avg).toBeCloseTo(inside.reduce((a, b) => a + b, 0) / inside.length, 9);
    }
    expect(r.points.reduce((n, p) => n + p.n, 0)).toBe(values.length);
  });

  it('few rows come back exactly as stored', async () => {
    const { rec, values } = await filled(MINUTE, 30 * MINUTE);
    const r = (await rec.query(key, { from: NOW - HOUR, to: NOW, width: 100 }))!;
    expect(r.tier).toBe('raw');
    expect(r.bucketMs).toBe(0);
    expect(r.points.map((p) => [p.t, p.avg])).toEqual(values);
  });

  it('the tier follows the range: raw for an hour, 1-minute rollups for a week, hourly beyond raw and minute retention', async () => {
    const { rec } = await filled(30_000, 7 * DAY);
    const hour = (await rec.query(key, { from: NOW - HOUR, to: NOW, width: 60 }))!;
    expect([hour.tier, hour.points.length <= 120]).toEqual(['raw', true]);
    const week = (await rec.query(key, { from: NOW - 7 * DAY, to: NOW, width: 1000 }))!;
    expect(week.tier).toBe('minute');
    expect(week.points.length).toBeLessThanOrEqual(2000);
    expect(week.points.reduce((n, p) => n + p.n, 0)).toBe(7 * 24 * 120);
    const year = (await rec.query(key, { from: NOW - 365 * DAY, to: NOW, width: 100 }))!;
    expect(year.tier).toBe('hour');
    expect(year.points.reduce((n, p) => n + p.n, 0)).toBe(7 * 24 * 120);
  });

  it('a series that does not exist is undefined, not an error', async () => {
    const rec = recorder();
    expect(await rec.query({ topic: 'nope', path: ['x'] }, { from: 0, to: 1, width: 10 })).toBeUndefined();
  });
});
