import { describe, expect, it } from 'vitest';
import { decodeSamples, encodeSamples } from '../../../src/hub/history/sample-block.js';
import { SeriesSamples } from '../../../src/hub/history/unfolded-samples.js';

describe("a series' unfolded samples", () => {
  it('keep every sample in order past many doublings, and encode as the same samples in arrays do', () => {
    const s = new SeriesSamples();
    const t: number[] = [];
    const v: number[] = [];
    for (let i = 0; i < 5000; i++) {
      t.push(1_796_000_000_000 + i * 37);
      v.push(i % 3 === 0 ? -i / 10 : i * 1.5);
      s.push(t[i]!, v[i]!);
    }
    expect(s.n).toBe(5000);
    const columns = s.columns();
    expect(Array.from(columns.t)).toEqual(t);
    expect(Array.from(columns.v)).toEqual(v);
    expect(encodeSamples(s, 10, 4000).equals(encodeSamples({ t, v }, 10, 4000))).toBe(true);
    expect(decodeSamples(encodeSamples(s, 0, 5000), t[0]!, 5000)).toEqual({ t, v });
  });

  it('are emptied by clear(), keeping their room unless they had a lot', () => {
    const small = new SeriesSamples();
    for (let i = 0; i < 1000; i++) small.push(i, i);
    const room = small.t.length;
    small.clear();
    expect(small.n).toBe(0);
    expect(small.t.length).toBe(room);
    small.push(5, 6);
    expect(Array.from(small.columns().t)).toEqual([5]);

    const large = new SeriesSamples();
    for (let i = 0; i < 10_000; i++) large.push(i, i);
    large.clear();
    expect(large.t.length).toBeLessThan(1000);
  });
});
