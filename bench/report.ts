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
  runs?: (Measurement & { peakRssKb: number })[];
}

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
    if (r.status !== 'ok' || !m) {
      return [r.scenario, r.broker, `${r.status}: ${(r.reason ?? '').split('\n')[0]!.slice(0, 100)}`];
    }
    const unit = m.unit === 'conn' ? 'conn' : 'msg';
    const item = m.rssItem === 'connection' ? 'conn' : m.rssItem === 'retained message' ? 'retained' : '';
    const count =
      `${num(m.delivered)}/${num(m.expected)}` +
      (m.lost > 0 ? ` LOST ${num(m.lost)}` : m.lost < 0 ? ` EXTRA ${num(-m.lost)}` : '') +
      (m.outOfOrder ? ` out-of-order ${num(m.outOfOrder)}` : '');
    return [
      r.scenario,
      r.broker,
      `${num(m.rate)} ${unit}`,
      m.latency ? ms(m.latency.p50Ms) : '-',
      m.latency ? ms(m.latency.p99Ms) : '-',
      `${sig(m.brokerCpuMicrosPerUnit)}/${unit}`,
      `${num(m.brokerCpuPercent)}%`,
      r.peakRssKb ? `${num(r.peakRssKb / 1024, 1)} MB` : '-',
      m.rssPerItemKb !== null ? `${sig(m.rssPerItemKb)} KB/${item}` : '-',
      count,
      `${num(m.generator.busiestThreadPercent)}%`,
    ];
  });
  return table(header, body, [false, false, true, true, true, true, true, true, true, true, true]);
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
      });
    }
  }
  return out;
}

export function formatRatios(ratios: Ratio[]): string {
  const x = (v: number | null) => (v === null || !Number.isFinite(v) ? '-' : `${v.toFixed(2)}x`);
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
