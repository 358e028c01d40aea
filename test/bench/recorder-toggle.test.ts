/**
 * The recorder-toggle section: its arithmetic on windows made up here, and `npm run bench -- --quick
 * --scenario recorder-toggle` end to end against a real broker under load.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summariseWindows } from '../../bench/recorder-toggle.js';
import type { RecorderWindow } from '../../bench/recorder-windows.js';
import { runBench } from './run-bench.js';

/** A 10 s window starting at `s` seconds: `perMessage` µs of CPU for each of `messages`. */
const w = (
  s: number,
  on: boolean,
  perMessage: number,
  messages = 10_000,
  main = perMessage / 2,
): RecorderWindow => ({
  on,
  start: s * 1000,
  end: s * 1000 + 10_000,
  cpuMicros: perMessage * messages,
  mainMicros: main * messages,
  messages,
  threadMicros: { '1': main * messages, '2': (perMessage - main) * messages },
});

describe('summariseWindows', () => {
  it('pools each state over its windows, and compares each window on with its neighbours off', () => {
    const f = summariseWindows(
      [w(0, true, 100), w(10, false, 100), w(20, true, 120), w(30, false, 80)],
      1000,
      0,
    );
    expect(f.onMicros).toBeCloseTo(110);
    expect(f.offMicros).toBeCloseTo(90);
    expect(f.ratio).toBeCloseTo(110 / 90);
    expect(f.mainRatio).toBeCloseTo(110 / 90);
    // 100 / 100 (one neighbour) and 120 / mean(100, 80).
    expect(f.pairs).toEqual({
      count: 2,
      median: expect.closeTo((1 + 120 / 90) / 2),
      min: 1,
      max: expect.closeTo(120 / 90),
    });
  });

  it('leaves out windows below the rate (the load starting or ending) and those of the warm-up', () => {
    const f = summariseWindows(
      [
        w(0, true, 500, 2000),
        w(10, false, 50),
        w(20, true, 999),
        w(30, false, 100),
        w(40, true, 110),
        w(50, false, 300, 9000),
      ],
      1000,
      15_000,
    );
    // 0 s is below the rate; the first full window starts at 10 s, so 10 s and 20 s are its warm-up;
    // 50 s has 90 % of its messages.
    expect(f.windows.map((x) => x.start)).toEqual([30_000, 40_000]);
    expect(f.ratio).toBeCloseTo(1.1);
    expect(f.pairs.count).toBe(1);
  });
});

describe('npm run bench -- --quick --scenario recorder-toggle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-toggle-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('measures windows with and without the recorder in one broker, and reports the ratio against its target', async () => {
    const out = join(dir, 'results.json');
    const { code, log } = await runBench(['--quick', '--scenario', 'recorder-toggle', '--out', out], 240_000);
    expect(code, log).toBe(0);
    expect(existsSync(out)).toBe(true);
    const { recorderToggle: t, results } = JSON.parse(readFileSync(out, 'utf8')) as {
      recorderToggle: {
        windows: RecorderWindow[];
        ratio: number;
        onMicros: number;
        offMicros: number;
        delivered: number;
        expected: number;
      };
      results: unknown[];
    };
    expect(results).toEqual([]);
    expect(t.windows.some((x) => x.on) && t.windows.some((x) => !x.on), log).toBe(true);
    for (const x of t.windows) expect(x.messages).toBeGreaterThan(0);
    expect(t.onMicros).toBeGreaterThan(0);
    expect(t.offMicros).toBeGreaterThan(0);
    expect(t.ratio).toBeCloseTo(t.onMicros / t.offMicros);
    expect(t.delivered).toBe(t.expected);
    expect(log).toMatch(
      /recorder on vs off in one broker .* µs a message, all threads: [\d.]+× \(target ≤ 1\.10: (met|OVER)\)/,
    );
  }, 300_000);

  it('refuses a --repeat that is not a whole number of runs, before starting anything', async () => {
    for (const bad of ['abc', '0', '1.5']) {
      const { code, log } = await runBench(
        ['--quick', '--scenario', 'recorder-toggle', '--repeat', bad],
        60_000,
      );
      expect(code, log).not.toBe(0);
      expect(log).toContain(`--repeat takes a whole number of runs, 1 or more (got '${bad}')`);
      expect(log).not.toContain('recorder-toggle: the recorder detached');
    }
  }, 200_000);
});
