import { describe, expect, it } from 'vitest';
import type { Measurement } from '../../bench/load/coordinator.js';
import { pairedRatios, type Row, type Run, spread } from '../../bench/report.js';

/** A run with only the figures the pairing reads. */
const run = (round: number, all: number, main: number, loadAverage = 2, rate = 1000): Run =>
  ({
    brokerCpuMicrosPerUnit: all,
    brokerMainThreadCpuMicrosPerUnit: main,
    round,
    loadAverage,
    peakRssKb: 0,
    rate,
    targetRate: 1000,
    lost: 0,
    problems: [],
  }) as unknown as Run;

const row = (broker: string, runs: Run[]): Row => ({
  scenario: 'hub@1k',
  description: '',
  broker,
  status: 'ok',
  measurement: runs[0] as Measurement,
  runs,
});

describe('the feature cost of runs paired by round', () => {
  it('divides each run by its base run of the same round, and gives the median with min and max', () => {
    const [p] = pairedRatios([
      row('mothership', [run(0, 100, 80, 1), run(1, 200, 160, 3), run(2, 100, 80, 2)]),
      row('mothership+hub', [run(0, 110, 84, 1), run(1, 300, 200, 3), run(2, 105, 80, 2)]),
    ]);
    expect(p).toMatchObject({
      scenario: 'hub@1k',
      broker: 'mothership+hub',
      reference: 'mothership',
      pairs: 3,
    });
    expect(p!.allThreads.median).toBeCloseTo(1.1);
    expect(p!.allThreads.min).toBeCloseTo(1.05);
    expect(p!.allThreads.max).toBeCloseTo(1.5);
    expect(p!.mainThread!.median).toBeCloseTo(1.05);
    expect(p!.loadAverage).toEqual({ median: 2, min: 1, max: 3 });
  });

  it('leaves out a round the base has no run of (a failed run), rather than pairing it with another', () => {
    const [p] = pairedRatios([
      row('mothership', [run(0, 100, 80), run(2, 100, 80)]),
      row('mothership+hub', [run(0, 120, 80), run(1, 500, 400), run(2, 140, 80)]),
    ]);
    expect(p!.pairs).toBe(2);
    expect(p!.ratios.map(([all]) => all)).toEqual([1.2, 1.4]);
  });

  it('leaves out a round where either broker fell behind its schedule or lost messages, and says so', () => {
    const [p] = pairedRatios([
      row('mothership', [run(0, 100, 80), run(1, 800, 500, 20, 46), run(2, 100, 80)]),
      row('mothership+hub', [run(0, 120, 80), run(1, 2600, 900, 20, 26), run(2, 110, 80)]),
    ]);
    expect(p).toMatchObject({ pairs: 2, excluded: 1 });
    expect(p!.allThreads.median).toBeCloseTo(1.15);
  });

  it('pairs nothing without both brokers', () => {
    expect(pairedRatios([row('mothership', [run(0, 100, 80)])])).toEqual([]);
  });

  it('the median of an even count is the mean of the middle two', () => {
    expect(spread([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4 });
  });
});
