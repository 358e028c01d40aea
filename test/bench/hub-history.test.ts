/**
 * `npm run bench -- --quick --scenario hub-history`: the history section runs inside `npm run bench`,
 * prints its figures beside the brokers' (each against its target) and writes them to the JSON.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBench } from './run-bench.js';

describe('npm run bench: the hub-history section', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-history-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('measures the recorder, bytes per sample, the week query and the CSV export, and reports them', async () => {
    const out = join(dir, 'results.json');
    const { code, log } = await runBench(['--quick', '--scenario', 'hub-history', '--out', out], 240_000);
    expect(code, log).toBe(0);
    expect(existsSync(out)).toBe(true);
    const { history, results } = JSON.parse(readFileSync(out, 'utf8')) as {
      history: Record<string, Record<string, number | string>>;
      results: unknown[];
    };
    expect(results).toEqual([]); // no broker scenario was asked for
    const numbers = [
      history.recorderCpu!.binaryAllThreadsMicros,
      history.recorderCpu!.binaryBrokerThreadMicros,
      history.recorderCpu!.jsonAllThreadsMicros,
      history.bytesPerSample!.rawTableBytesPerSample,
      history.weekQuery!.autoTierMedianMs,
      history.csvExport!.seconds,
    ];
    for (const n of numbers) expect(Number.isFinite(n) && (n as number) > 0, String(n)).toBe(true);
    expect(history.weekQuery!.points).toBe(120_960);
    expect(history.csvExport!.rows).toBe(100_000);
    expect(log).toMatch(/recorder CPU per message .* µs on the broker's thread/);
    expect(log).toMatch(/bytes per raw sample: [\d.]+ B \(target ≤ 25: (met|OVER)\)/);
    expect(log).toMatch(/7-day 5 s series \(120960 points\).*target ≤ 100 ms: (met|OVER)/);
    expect(log).toMatch(/CSV export of 100000 rows .*target ≤ 5 s: (met|OVER)/);
  }, 300_000);
});
