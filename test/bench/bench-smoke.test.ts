/**
 * `npm run bench -- --quick` against Mothership, mosquitto and aedes: proves the load generator and
 * the accounting, i.e. that every scenario delivers exactly what was sent, in order, with figures
 * measured from the brokers' own /proc entries. Every closed-loop scenario runs, and four of the
 * open-loop (fixed-rate) ones (the others are the same load at other rates).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatResults } from '../../bench/report.js';

interface ResultRow {
  scenario: string;
  broker: string;
  status: string;
  reason?: string;
  peakRssKb?: number;
  measurement?: {
    unit: string;
    rate: number;
    latency: { p50Ms: number; p99Ms: number; p999Ms: number; maxMs: number; samples: number } | null;
    targetRate?: number;
    serviceLatency?: { p50Ms: number; p99Ms: number; p999Ms: number } | null;
    generatorLag?: { p99Ms: number } | null;
    rssKb?: number;
    measuredMs: number;
    brokerCpuMicrosPerUnit: number;
    rssPerItemKb: number | null;
    expected: number;
    delivered: number;
    lost: number;
    outOfOrder: number;
    problems: string[];
  };
}

const haveMosquitto = existsSync('/usr/sbin/mosquitto');
const brokers = haveMosquitto ? ['mothership', 'mosquitto', 'aedes'] : ['mothership', 'aedes'];
const SCENARIOS = [
  'fan-in',
  'fan-out',
  'qos1-pairs',
  'qos1-sessions',
  'qos1-durable',
  'qos1-disk-bound',
  'idle-10k',
  'retained-10k',
];
/** Open-loop scenarios, with what their quick versions schedule: msg/s × (warm-up + measured) s. */
const OPEN_LOOP: Record<string, { rate: number; seconds: number; qos: number }> = {
  'fan-in@5k': { rate: 500, seconds: 0.8, qos: 0 },
  'qos1-pairs@2k': { rate: 500, seconds: 0.8, qos: 1 },
  'hub-40': { rate: 40, seconds: 1.3, qos: 1 },
  // JSON telemetry with the stamp as hex text: the receivers decode it to check order and latency.
  'hub@1k': { rate: 1000, seconds: 1.3, qos: 1 },
};
/** The bridge scenarios (issue 16): a rate over a batch of 2,000 (quick) messages, no latency histogram. */
const BRIDGE = ['bridge-forward', 'bridge-drain'];
const ALL = [...SCENARIOS, ...Object.keys(OPEN_LOOP), ...BRIDGE];
/** Rows a launcher cannot run, reported as such rather than measured. */
const NOT_AVAILABLE = new Set(['aedes qos1-durable', 'aedes qos1-disk-bound']);

describe('npm run bench -- --quick', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  const out = join(dir, 'results.json');
  let rows: ResultRow[] = [];
  let log = '';
  let code: number | null = null;

  beforeAll(async () => {
    const child = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', 'bench/run.ts', '--quick', '--only', brokers.join(',')],
        ...['--scenario', ALL.join(','), '--out', out],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.on('data', (d: Buffer) => {
      log += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
    });
    // A bound, not a target: a loaded machine runs the quick bench several times slower.
    const timer = setTimeout(() => child.kill('SIGKILL'), 400_000);
    code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    if (existsSync(out)) rows = (JSON.parse(readFileSync(out, 'utf8')) as { results: ResultRow[] }).results;
  }, 420_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every scenario on every broker and exits 0', () => {
    expect(code, log).toBe(0);
    expect(rows.map((r) => `${r.broker} ${r.scenario}`).sort()).toEqual(
      brokers.flatMap((b) => ALL.map((s) => `${b} ${s}`)).sort(),
    );
  });

  for (const broker of brokers) {
    for (const scenario of BRIDGE) {
      if (broker === 'aedes') {
        it(`aedes ${scenario}: reported as not available (it has no bridge)`, () => {
          const row = rows.find((r) => r.broker === broker && r.scenario === scenario);
          expect(row?.status, log).toBe('not available');
          expect(row?.reason).toMatch(/no bridge/);
          expect(row?.measurement).toBeUndefined();
        });
        continue;
      }
      it(`${broker} ${scenario}: every message crossed the bridge once, in order per topic, and measured`, () => {
        const row = rows.find((r) => r.broker === broker && r.scenario === scenario);
        expect(row, log).toBeDefined();
        expect(row!.status, row!.reason ?? log).toBe('ok');
        const m = row!.measurement!;
        // Duplicates and messages crossing during the outage are problems too.
        expect(m.problems, log).toEqual([]);
        expect(m.expected).toBe(2000);
        expect(m.delivered).toBe(m.expected);
        expect(m.lost).toBe(0);
        expect(m.outOfOrder).toBe(0);
        expect(m.rate).toBeGreaterThan(0);
        expect(m.latency).toBeNull();
        expect(m.brokerCpuMicrosPerUnit).toBeGreaterThan(0);
        expect(row!.peakRssKb).toBeGreaterThan(1000);
      });
    }
    for (const scenario of SCENARIOS) {
      if (NOT_AVAILABLE.has(`${broker} ${scenario}`)) {
        it(`${broker} ${scenario}: reported as not available, with the reason`, () => {
          const row = rows.find((r) => r.broker === broker && r.scenario === scenario);
          expect(row?.status, log).toBe('not available');
          expect(row?.reason).toMatch(/persistence/);
          expect(row?.measurement).toBeUndefined();
        });
        continue;
      }
      it(`${broker} ${scenario}: delivered exactly what was expected, and measured it`, () => {
        const row = rows.find((r) => r.broker === broker && r.scenario === scenario);
        expect(row, log).toBeDefined();
        expect(row!.status, row!.reason ?? log).toBe('ok');
        const m = row!.measurement!;
        expect(m.problems, log).toEqual([]);
        expect(m.expected).toBeGreaterThan(0);
        expect(m.delivered).toBe(m.expected);
        expect(m.lost).toBe(0);
        expect(m.outOfOrder).toBe(0);
        expect(m.rate).toBeGreaterThan(0);
        expect(m.latency).not.toBeNull();
        expect(m.latency!.p99Ms).toBeGreaterThanOrEqual(m.latency!.p50Ms);
        expect(Number.isFinite(m.brokerCpuMicrosPerUnit)).toBe(true);
        expect(row!.peakRssKb).toBeGreaterThan(1000);
        if (scenario === 'idle-10k') expect(m.rssPerItemKb).not.toBeNull();
      });
    }
    for (const [scenario, schedule] of Object.entries(OPEN_LOOP)) {
      it(`${broker} ${scenario}: sent its whole fixed-rate schedule, all delivered, with percentiles`, () => {
        const row = rows.find((r) => r.broker === broker && r.scenario === scenario);
        expect(row, log).toBeDefined();
        expect(row!.status, row!.reason ?? log).toBe('ok');
        const m = row!.measurement!;
        expect(m.problems, log).toEqual([]);
        expect(m.targetRate).toBe(schedule.rate);
        // Every scheduled message was sent and delivered (QoS 0 on loopback loses nothing either).
        expect(m.expected).toBe(Math.floor(schedule.rate * schedule.seconds));
        expect(m.delivered).toBe(m.expected);
        expect(m.outOfOrder).toBe(0);
        // The latency histogram holds the messages scheduled in the measured interval, give or take
        // the ones at its edges; percentiles are ordered and positive.
        const l = m.latency!;
        expect(l.samples).toBeGreaterThan(0);
        expect(l.samples).toBeLessThanOrEqual(m.expected);
        expect(l.p50Ms).toBeGreaterThan(0);
        expect(l.p99Ms).toBeGreaterThanOrEqual(l.p50Ms);
        expect(l.p999Ms).toBeGreaterThanOrEqual(l.p99Ms);
        expect(l.maxMs).toBeGreaterThanOrEqual(l.p999Ms);
        // From the write() it can only be shorter than from the scheduled time.
        expect(m.serviceLatency!.p50Ms).toBeLessThanOrEqual(l.p50Ms);
        expect(m.generatorLag).not.toBeNull();
        expect(m.brokerCpuMicrosPerUnit).toBeGreaterThan(0);
        expect(m.rssKb).toBeGreaterThan(1000);
      });
    }
  }
});

describe('results table', () => {
  it('shows a broker that could not start as "not available", with no figures', () => {
    const text = formatResults([
      {
        scenario: 'fan-in',
        description: '',
        broker: 'mothership',
        status: 'not available',
        reason: 'src/index.ts does not export a Broker with listen()',
      },
    ]);
    const line = text.split('\n').find((l) => l.startsWith('fan-in'))!;
    expect(line).toContain('not available: src/index.ts does not export a Broker');
    expect(line).not.toMatch(/msg|µs|MB/);
  });
});
