import { describe, expect, it } from 'vitest';
import { decodeSamples, encodeSamples } from '../../../src/hub/history/sample-block.js';

describe('a raw sample block', () => {
  it('gives back every value exactly (decimals, float64-only values, -0, extremes) at its times', () => {
    const v = [21.3, 0.1 + 0.2, -0, 1e300, -123456.789, 5e-324, 2 ** 53, 1 / 3, -7, 0, 26.5, -40.25, 1e-7];
    const t = v.map((_, i) => 1_700_000_000_000 + i * i * 3_600_000 + i);
    const data = encodeSamples({ t, v }, 0, v.length);
    const back = decodeSamples(data, t[0]!, v.length);
    expect(back.t).toEqual(t);
    expect(back.v.length).toBe(v.length);
    for (let i = 0; i < v.length; i++) expect(Object.is(back.v[i], v[i]), `value ${i}: ${v[i]}`).toBe(true);
  });

  it('a reading like 21.3 takes 2 bytes, a later one 4 with its time: a slow board costs little per row', () => {
    expect(encodeSamples({ t: [5000], v: [21.3] }, 0, 1).length).toBe(2);
    expect(encodeSamples({ t: [0, 5000], v: [21.3, 21.4] }, 0, 2).length).toBe(6);
  });

  it('encodes a slice of the samples given', () => {
    const s = { t: [1, 2, 3, 4], v: [10, 20, 30, 40] };
    expect(decodeSamples(encodeSamples(s, 1, 3), 2, 2)).toEqual({ t: [2, 3], v: [20, 30] });
  });
});
