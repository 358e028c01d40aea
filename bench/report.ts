/** The results table, the ratios between brokers, and the JSON written to bench/results/. */
import type { Measurement } from './load/coordinator.js';

export interface Row {
  scenario: string;
  description: string;
  broker: string;
  /** 'not available': the broker could not be started at all (nothing measured, nothing shown). */
  status: 'ok' | 'not available' | 'failed';
  reason?: string;
  /** The broker's peak RSS (VmHWM) over its whole life: it is started fresh for each scenario. */
  peakRssKb?: number;
  measurement?: Measurement;
  /** Every run when the scenario was repeated (the row shows the one with the median rate). */
  runs?: Run[];
}

/** One run of a repeated scenario: `round` is its turn (brokers take turns), `loadAverage` the machine's 1-minute one after it. */
export type Run = Measurement & { peakRssKb: number; round: number; loadAverage: number };

export interface Ratio {
  scenario: string;
  broker: string;
  reference: string;
  /** broker ÷ reference: higher is better. */
  rate: number;
  /** broker ÷ reference: lower is better. */
  cpuPerUnit: number;
  p99: number | null;
  peakRss: number | null;
  /** Open loop only (null elsewhere): more latency percentiles, and RSS at the end of the measured interval. */
  p50?: number | null;
  p999?: number | null;
  rss?: number | null;
}

const REFERENCES = ['mosquitto', 'aedes'];

const num = (x: number, digits = 0) =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '-';
const ms = (x: number) => (x >= 100 ? num(x, 0) : x >= 10 ? num(x, 1) : x >= 1 ? num(x, 2) : num(x, 3));
const sig = (x: number) => (x >= 100 ? num(x, 0) : x >= 10 ? num(x, 1) : num(x, 2));

function table(header: string[], body: string[][], rightAlign: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAlign[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

const statusCells = (r: Row) => [
  r.scenario,
  r.broker,
  `${r.status}: ${(r.reason ?? '').split('\n')[0]!.slice(0, 100)}`,
];

const deliveredCell = (m: Measurement) =>
  `${num(m.delivered)}/${num(m.expected)}` +
  (m.lost > 0 ? ` LOST ${num(m.lost)}` : m.lost < 0 ? ` EXTRA ${num(-m.lost)}` : '') +
  (m.outOfOrder ? ` out-of-order ${num(m.outOfOrder)}` : '');

const mb = (kb: number | undefined) => (kb ? `${num(kb / 1024, 1)} MB` : '-');

export function formatResults(rows: Row[]): string {
  const header = [
    'scenario',
    'broker',
    'rate/s',
    'p50 ms',
    'p99 ms',
    'CPU µs/unit',
    'broker CPU',
    'peak RSS',
    'RSS/item',
    'delivered/expected',
    'gen. busiest thread',
  ];
  const body = rows.map((r) => {
    const m = r.measurement;
    if (r.status !== 'ok' || !m) return statusCells(r);
    const unit = m.unit === 'conn' ? 'conn' : 'msg';
    const item = m.rssItem === 'connection' ? 'conn' : m.rssItem === 'retained message' ? 'retained' : '';
    return [
      r.scenario,
      r.broker,
      `${num(m.rate)} ${unit}`,
      m.latency ? ms(m.latency.p50Ms) : '-',
      m.latency ? ms(m.latency.p99Ms) : '-',
      `${sig(m.brokerCpuMicrosPerUnit)}/${unit}`,
      `${num(m.brokerCpuPercent)}%`,
      mb(r.peakRssKb),
      m.rssPerItemKb !== null ? `${sig(m.rssPerItemKb)} KB/${item}` : '-',
      deliveredCell(m),
      `${num(m.generator.busiestThreadPercent)}%`,
    ];
  });
  return table(header, body, [false, false, true, true, true, true, true, true, true, true, true]);
}

/** The open-loop rows: what was scheduled, the latency percentiles from the schedule, CPU and memory. */
export function formatOpenLoopResults(rows: Row[]): string {
  const header = [
    'scenario',
    'broker',
    'msg/s sched → deliv',
    'p50 ms',
    'p99 ms',
    'p99.9 ms',
    'max ms',
    'CPU µs/msg',
    'broker CPU',
    'idle CPU',
    'RSS',
    'peak RSS',
    'delivered/expected',
    'write→recv p99',
    'gen. lag p99',
  ];
  const body = rows.map((r) => {
    const m = r.measurement;
    if (r.status !== 'ok' || !m) return statusCells(r);
    const l = m.latency;
    return [
      r.scenario,
      r.broker,
      `${num(m.targetRate ?? Number.NaN)} → ${num(m.rate)}`,
      l ? ms(l.p50Ms) : '-',
      l ? ms(l.p99Ms) : '-',
      l ? ms(l.p999Ms) : '-',
      l ? ms(l.maxMs) : '-',
      sig(m.brokerCpuMicrosPerUnit),
      `${num(m.brokerCpuPercent, 1)}%`,
      m.idleCpuPercent !== undefined ? `${num(m.idleCpuPercent, 2)}%` : '-',
      mb(m.rssKb),
      mb(r.peakRssKb),
      deliveredCell(m),
      m.serviceLatency ? ms(m.serviceLatency.p99Ms) : '-',
      m.generatorLag ? ms(m.generatorLag.p99Ms) : '-',
    ];
  });
  return table(header, body, [false, false, ...header.slice(2).map(() => true)]);
}

export function computeRatios(rows: Row[]): Ratio[] {
  const ok = rows.filter((r) => r.status === 'ok' && r.measurement);
  const out: Ratio[] = [];
  for (const r of ok) {
    for (const ref of REFERENCES) {
      if (ref === r.broker) continue;
      const base = ok.find((x) => x.broker === ref && x.scenario === r.scenario);
      if (!base) continue;
      const m = r.measurement!;
      const b = base.measurement!;
      out.push({
        scenario: r.scenario,
        broker: r.broker,
        reference: ref,
        rate: m.rate / b.rate,
        // A CPU figure of 0 means less than one /proc clock tick was used: no ratio can be taken.
        cpuPerUnit:
          b.brokerCpuMicrosPerUnit > 0 ? m.brokerCpuMicrosPerUnit / b.brokerCpuMicrosPerUnit : Number.NaN,
        p99: m.latency && b.latency ? m.latency.p99Ms / b.latency.p99Ms : null,
        peakRss: r.peakRssKb && base.peakRssKb ? r.peakRssKb / base.peakRssKb : null,
        ...(m.targetRate !== undefined
          ? {
              p50: m.latency && b.latency ? m.latency.p50Ms / b.latency.p50Ms : null,
              p999: m.latency && b.latency ? m.latency.p999Ms / b.latency.p999Ms : null,
              rss: m.rssKb && b.rssKb ? m.rssKb / b.rssKb : null,
            }
          : {}),
      });
    }
  }
  return out;
}

const x = (v: number | null | undefined) =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : `${v.toFixed(2)}x`;

export function formatOpenLoopRatios(ratios: Ratio[]): string {
  return table(
    ['scenario', 'broker', 'vs', 'CPU/msg', 'p50', 'p99', 'p99.9', 'RSS'],
    ratios.map((r) => [
      r.scenario,
      r.broker,
      r.reference,
      x(r.cpuPerUnit),
      x(r.p50),
      x(r.p99),
      x(r.p999),
      x(r.rss),
    ]),
    [false, false, false, true, true, true, true, true],
  );
}

export function formatRatios(ratios: Ratio[]): string {
  return table(
    ['scenario', 'broker', 'vs', 'rate', 'CPU/unit', 'p99', 'peak RSS'],
    ratios.map((r) => [
      r.scenario,
      r.broker,
      r.reference,
      x(r.rate),
      x(r.cpuPerUnit),
      x(r.p99),
      x(r.peakRss),
    ]),
    [false, false, false, true, true, true, true],
  );
}

/** The target for Mothership: ahead of aedes everywhere, CPU/message within 1.5x of mosquitto. */
export function formatTargets(ratios: Ratio[], broker = 'mothership'): string {
  const lines: string[] = [];
  for (const r of ratios.filter((q) => q.broker === broker && Number.isFinite(q.cpuPerUnit))) {
    if (r.reference === 'aedes') {
      // CPU per unit decides: on 2 shared cores the rate depends on what else runs.
      const ahead = r.cpuPerUnit < 1;
      lines.push(
        `${r.scenario}: ${ahead ? 'ahead of' : 'NOT ahead of'} aedes on CPU/unit (${r.cpuPerUnit.toFixed(2)}x; rate ${r.rate.toFixed(2)}x)`,
      );
    } else if (r.reference === 'mosquitto') {
      const within = r.cpuPerUnit <= 1.5;
      lines.push(
        `${r.scenario}: CPU/unit ${r.cpuPerUnit.toFixed(2)}x mosquitto's (${within ? 'within' : 'OVER'} the 1.5x target)`,
      );
    }
  }
  return lines.join('\n');
}

/** Brokers compared run by run with their base: the same broker plus one feature. */
const PAIRED: [broker: string, reference: string][] = [['mothership+hub', 'mothership']];

export interface Spread {
  median: number;
  min: number;
  max: number;
}

/**
 * A feature's cost as the ratio of CPU per message of runs that ran one after the other (round r of the
 * broker with the feature ÷ round r of its base): a burst of someone else's load then lands on one
 * pair, not on one side, and the spread of the pairs says how far the median can be trusted.
 */
export interface PairedRatio {
  scenario: string;
  broker: string;
  reference: string;
  pairs: number;
  /** All the broker's threads (the history's writer thread included). */
  allThreads: Spread;
  /** The broker's main thread alone (open loop only): what delays deliveries. */
  mainThread: Spread | null;
  /** The machine's 1-minute load average over the pairs' runs. */
  loadAverage: Spread;
  /** Each pair: [all threads, main thread] ratios, in round order. */
  ratios: [number, number | null][];
  /** Rounds left out because a run of them did not hold its schedule or lost messages. */
  excluded: number;
}

/**
 * A run whose CPU per message means something: at a fixed rate, the broker kept up (delivered at
 * least 90 % of the schedule's rate in the measured interval) and nothing was lost or went wrong.
 * On an overloaded machine a run can fall seconds behind; its CPU per message then measures the backlog.
 */
export function heldSchedule(m: Measurement): boolean {
  const kept = m.targetRate === undefined || m.rate >= 0.9 * m.targetRate;
  return kept && m.lost === 0 && m.problems.length === 0;
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const median = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { median, min: sorted[0]!, max: sorted[n - 1]! };
}

const runsOf = (r: Row): Run[] =>
  r.runs ??
  (r.measurement ? [{ ...r.measurement, peakRssKb: r.peakRssKb ?? 0, round: 0, loadAverage: NaN }] : []);

export function pairedRatios(rows: Row[]): PairedRatio[] {
  const out: PairedRatio[] = [];
  for (const row of rows) {
    const reference = PAIRED.find(([b]) => b === row.broker)?.[1];
    const base = rows.find((x) => x.broker === reference && x.scenario === row.scenario);
    if (!reference || !base || row.status !== 'ok' || base.status !== 'ok') continue;
    const baseRuns = new Map(runsOf(base).map((m) => [m.round, m]));
    const ratios: [number, number | null][] = [];
    const loads: number[] = [];
    let excluded = 0;
    for (const m of runsOf(row)) {
      const b = baseRuns.get(m.round);
      if (!b || !(b.brokerCpuMicrosPerUnit > 0)) continue;
      if (!heldSchedule(m) || !heldSchedule(b)) {
        excluded++;
        continue;
      }
      const main =
        m.brokerMainThreadCpuMicrosPerUnit !== undefined && b.brokerMainThreadCpuMicrosPerUnit
          ? m.brokerMainThreadCpuMicrosPerUnit / b.brokerMainThreadCpuMicrosPerUnit
          : null;
      ratios.push([m.brokerCpuMicrosPerUnit / b.brokerCpuMicrosPerUnit, main]);
      loads.push(m.loadAverage, b.loadAverage);
    }
    if (!ratios.length && !excluded) continue;
    const mains = ratios.map(([, x]) => x).filter((x): x is number => x !== null);
    out.push({
      scenario: row.scenario,
      broker: row.broker,
      reference,
      pairs: ratios.length,
      allThreads: spread(ratios.map(([x]) => x)),
      mainThread: mains.length === ratios.length && mains.length > 0 ? spread(mains) : null,
      loadAverage: spread(loads.filter(Number.isFinite)),
      ratios,
      excluded,
    });
  }
  return out;
}

const ratioSpread = (s: Spread | null) =>
  s && Number.isFinite(s.median) ? `${s.median.toFixed(2)}x (${s.min.toFixed(2)}-${s.max.toFixed(2)})` : '-';

export function formatPairedRatios(paired: PairedRatio[]): string {
  return table(
    ['scenario', 'broker', 'vs', 'pairs', 'CPU/msg all threads', 'main thread', 'load average'],
    paired.map((p) => [
      p.scenario,
      p.broker,
      p.reference,
      p.excluded ? `${p.pairs} (${p.excluded} left out)` : String(p.pairs),
      ratioSpread(p.allThreads),
      ratioSpread(p.mainThread),
      Number.isFinite(p.loadAverage.min)
        ? `${p.loadAverage.min.toFixed(1)}-${p.loadAverage.max.toFixed(1)}`
        : '-',
    ]),
    [false, false, false, true, true, true, true],
  );
}
