/**
 * `npm run bench`: Mothership, mosquitto and aedes one after another on loopback, under the same
 * load, in one table. See bench/README.md.
 *
 *   --only mothership,mosquitto   brokers to run (default: mothership, mosquitto, aedes; also mosquitto-nodelay)
 *   --scenario fan-in,idle-10k    scenarios to run (default: all; `open-loop` names every fixed-rate one;
 *                                 `hub-history` the history section, in-process, Mothership only;
 *                                 `recorder-toggle` the recorder on vs off in one broker, ~4.5 min × --repeat)
 *   --quick                       small counts and short intervals (smoke test)
 *   --workers N                   load-generator threads (default 2)
 *   --repeat N                    runs per scenario and broker, the median (by rate) is shown (default 3; --quick: 1)
 *   --out FILE                    where to write the JSON (default bench/results/latest.json)
 *   --dashboard                   the dashboard's figures in headless Chromium instead (bench/dashboard.ts)
 *   --together                    fixed-rate scenarios: the brokers of a round run side by side, each under
 *                                 its own identical load, over the same seconds (A/B comparisons on a busy machine)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { aedesVersion } from './brokers/aedes.js';
import {
  type BrokerLauncher,
  BrokerUnavailable,
  launchers,
  optionalLaunchers,
  type RunningBroker,
} from './brokers/index.js';
import { mosquittoVersion } from './brokers/mosquitto.js';
import { mothership } from './brokers/mothership.js';
import { BROKER_NOFILE } from './brokers/spawn.js';
import { formatHistoryFigures, type HistoryFigures, historyFigures } from './hub-history.js';
import { CLK_TCK, memoryKb, raiseOwnNofile } from './lib/proc.js';
import { type Meeting, rendezvous } from './lib/rendezvous.js';
import { type BridgeRemote, runBridge, startBridgeRemote } from './load/bridge-run.js';
import { type Measurement, runScenario } from './load/coordinator.js';
import {
  formatToggleFigures,
  RECORDER_TOGGLE,
  recorderToggleFigures,
  type ToggleFigures,
} from './recorder-toggle.js';
import {
  computeRatios,
  formatOpenLoopRatios,
  formatOpenLoopResults,
  formatPairedRatios,
  formatRatios,
  formatResults,
  formatTargets,
  pairedRatios,
  type Row,
} from './report.js';
import { openLoopScenarios, quickVersion, type RateScenario, type Scenario, scenarios } from './scenarios.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    scenario: { type: 'string' },
    quick: { type: 'boolean', default: false },
    workers: { type: 'string', default: '2' },
    out: { type: 'string', default: join(here, 'results', 'latest.json') },
    repeat: { type: 'string' },
    dashboard: { type: 'boolean', default: false },
    together: { type: 'boolean', default: false },
  },
});
// `--dashboard`: the dashboard's figures in Chromium (bench/dashboard.ts, which reads --quick) instead.
if (values.dashboard) {
  await import('./dashboard.js');
  process.exit(0);
}
const list = (s: string | undefined) =>
  s
    ?.split(',')
    .map((x) => x.trim())
    .filter(Boolean);

const onlyBrokers = list(values.only);
/** Not a load on a broker: the history recorder's own figures, measured in this process. */
const HISTORY = 'hub-history';
const listedScenarios = list(values.scenario)?.flatMap((name) =>
  name === 'open-loop' ? openLoopScenarios.map((x) => x.name) : [name],
);
const wantHistory =
  (!listedScenarios || listedScenarios.includes(HISTORY)) &&
  (!onlyBrokers || onlyBrokers.some((b) => b.startsWith('mothership')));
const wantToggle =
  (!listedScenarios || listedScenarios.includes(RECORDER_TOGGLE)) &&
  (!onlyBrokers || onlyBrokers.includes('mothership+hub'));
const onlyScenarios = listedScenarios?.filter((name) => name !== HISTORY && name !== RECORDER_TOGGLE);
for (const b of onlyBrokers ?? []) {
  if (![...launchers, ...optionalLaunchers].some((l) => l.name === b))
    throw new Error(
      `unknown broker '${b}' (${[...launchers, ...optionalLaunchers].map((l) => l.name).join(', ')})`,
    );
}
for (const s of onlyScenarios ?? []) {
  if (!scenarios.some((x) => x.name === s))
    throw new Error(
      `unknown scenario '${s}' (${[...scenarios.map((x) => x.name), HISTORY, RECORDER_TOGGLE].join(', ')})`,
    );
}
const selectedBrokers = onlyBrokers
  ? [...launchers, ...optionalLaunchers].filter((l) => onlyBrokers.includes(l.name))
  : launchers;
const selectedScenarios: Scenario[] = scenarios
  .filter((s) => !onlyScenarios || onlyScenarios.includes(s.name))
  .map((s) => (values.quick ? quickVersion(s) : s));
const workers = Math.max(1, Number(values.workers));
const openLoopNames = new Set(openLoopScenarios.map((x) => x.name));
const isOpenLoop = (r: Row) => openLoopNames.has(r.scenario);
const repeat = Number(values.repeat ?? (values.quick ? 1 : 3));
if (!Number.isInteger(repeat) || repeat < 1)
  throw new Error(`--repeat takes a whole number of runs, 1 or more (got '${values.repeat}')`);

const nofile = raiseOwnNofile(65535);
const log = (s: string) => process.stderr.write(`${s}\n`);
log(
  `bench: ${selectedBrokers.map((b) => b.name).join(', ')} × ${selectedScenarios.map((s) => s.name).join(', ')}` +
    `${values.quick ? ' (quick)' : ''}; ${os.cpus().length} CPUs, open files: generator ${nofile}, brokers ${BROKER_NOFILE}`,
);
for (const s of selectedScenarios) {
  if (s.kind === 'connections' && s.connections + 1000 > Math.min(nofile, BROKER_NOFILE)) {
    log(
      `warning: ${s.name} needs ~${s.connections + 1000} open files; the limit is ${Math.min(nofile, BROKER_NOFILE)}`,
    );
  }
}

interface Attempt {
  measurement: Measurement;
  peakRssKb: number;
  /** The turn it ran in (brokers take turns): runs of one round are paired in the ratios. */
  round: number;
  /** The machine's 1-minute load average right after the run. */
  loadAverage: number;
}

/** The brokers of the runs in progress: stopped if the bench itself is stopped (Ctrl-C, kill). */
const current = new Set<RunningBroker>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`bench: ${signal}, stopping the brokers of the runs in progress`);
    void Promise.all([...current].map((b) => b.stop())).finally(() => process.exit(130));
  });
}

/** One fresh broker, one scenario: the measurement, or why there is none. */
async function attempt(launcher: BrokerLauncher, s: Scenario, round = 0, meet?: Meeting): Promise<Attempt> {
  let broker: RunningBroker | undefined;
  let remote: BridgeRemote | undefined;
  const t0 = Date.now();
  try {
    // A bridge scenario: the remote first (a Mothership without persistence), the hub bridging to it.
    if (s.kind === 'bridge') remote = await startBridgeRemote(() => mothership.start({}));
    broker = await launcher.start({ ...s.broker, ...(remote ? { bridgeConfig: remote.config } : {}) });
    current.add(broker);
    const m =
      s.kind === 'bridge'
        ? await runBridge(s, broker, remote!)
        : await runScenario(s, broker, { workers, together: meet?.arrive });
    if (!broker.alive())
      throw new Error(`the broker exited during the scenario: ${broker.output().slice(-300)}`);
    const peakRssKb = memoryKb(broker.pid).peakKb;
    const loadAverage = os.loadavg()[0]!;
    log(
      `${launcher.name} ${s.name}: ${Math.round(m.rate)} ${m.unit}/s, ${m.brokerCpuMicrosPerUnit.toFixed(2)} µs/${m.unit}` +
        (m.brokerMainThreadCpuMicrosPerUnit !== undefined
          ? ` (main thread ${m.brokerMainThreadCpuMicrosPerUnit.toFixed(2)})`
          : '') +
        ', ' +
        `${m.delivered}/${m.expected} delivered; broker CPU ${Math.round(m.brokerCpuPercent)}%, ` +
        `generator ${Math.round(m.generator.totalPercent)}% (busiest thread ${Math.round(m.generator.busiestThreadPercent)}%) ` +
        (m.targetRate !== undefined && m.latency
          ? `p50/p99/p99.9 ${m.latency.p50Ms.toFixed(3)}/${m.latency.p99Ms.toFixed(3)}/${m.latency.p999Ms.toFixed(3)} ms ` +
            `at ${m.targetRate} msg/s scheduled (generator lag p99 ${m.generatorLag?.p99Ms.toFixed(3) ?? '-'} ms) `
          : '') +
        `(${((Date.now() - t0) / 1000).toFixed(1)} s, load average ${loadAverage.toFixed(1)})` +
        (m.problems.length ? `; problems: ${m.problems.slice(0, 3).join('; ')}` : ''),
    );
    return { measurement: m, peakRssKb, round, loadAverage };
  } finally {
    meet?.leave();
    if (broker) current.delete(broker);
    await broker?.stop();
    await remote?.stop();
  }
}

/** mosquitto's saturated rate in each closed-loop scenario, this run: what `rate: { share }` is a share of. */
const saturatedRates = new Map<string, number>();

/** A scenario whose rate is a share of mosquitto's saturated rate, with that rate in msg/s. */
async function resolveRate(s: RateScenario): Promise<RateScenario & { rate: number }> {
  if (typeof s.rate === 'number') return { ...s, rate: s.rate };
  const { share, of } = s.rate;
  let base = saturatedRates.get(of);
  if (base === undefined) {
    const closed = scenarios.find((x) => x.name === of);
    const mosquitto = launchers.find((l) => l.name === 'mosquitto');
    const why = mosquitto && (await mosquitto.unavailable({}));
    if (!closed || !mosquitto || why) {
      throw new Error(`no saturated mosquitto rate in '${of}' to take ${share * 100} % of: ${why}`);
    }
    log(`${s.name}: measuring mosquitto's saturated rate in ${of} (one run) to set the rate`);
    base = (await attempt(mosquitto, closed)).measurement.rate;
    saturatedRates.set(of, base);
  }
  return { ...s, rate: Math.round(base * share) };
}

const rows: Row[] = [];
const started = Date.now();
const unavailable = new Map<string, string>(); // launcher + options → why not
// Scenario by scenario; within one, the brokers take turns (repeat 1: A B C, repeat 2: A B C, ...)
// so that a burst of load from elsewhere on the machine does not fall on one broker only.
for (const listed of selectedScenarios) {
  const attempts = new Map<string, Attempt[]>();
  const scenarioRows = selectedBrokers.map((l) => {
    const row: Row = { scenario: listed.name, description: listed.description, broker: l.name, status: 'ok' };
    rows.push(row);
    attempts.set(l.name, []);
    return row;
  });
  let s = listed;
  if (s.kind === 'rate') {
    try {
      s = await resolveRate(s);
    } catch (e) {
      for (const row of scenarioRows)
        Object.assign(row, { status: 'not available', reason: (e as Error).message });
      log(`${s.name}: not available (${(e as Error).message})`);
      continue;
    }
  }
  const side = values.together && s.kind === 'rate';
  for (let r = 0; r < repeat; r++) {
    const round: { launcher: BrokerLauncher; row: Row; key: string }[] = [];
    for (const [i, launcher] of selectedBrokers.entries()) {
      const row = scenarioRows[i]!;
      if (row.status !== 'ok') continue;
      const key = `${launcher.name} ${JSON.stringify(s.broker ?? {})}`;
      const reason = unavailable.get(key) ?? (await launcher.unavailable(s.broker ?? {}));
      if (reason) {
        unavailable.set(key, reason);
        Object.assign(row, { status: 'not available', reason });
        log(`${launcher.name} ${s.name}: not available (${reason})`);
        continue;
      }
      round.push({ launcher, row, key });
    }
    const settle = (one: (typeof round)[number], result: PromiseSettledResult<Attempt>) => {
      if (result.status === 'fulfilled') {
        attempts.get(one.launcher.name)!.push(result.value);
        return;
      }
      const e = result.reason as Error;
      if (e instanceof BrokerUnavailable) {
        unavailable.set(one.key, e.message);
        Object.assign(one.row, { status: 'not available', reason: e.message });
        log(`${one.launcher.name} ${s.name}: not available (${e.message})`);
      } else {
        Object.assign(one.row, { status: 'failed', reason: e.message });
        log(`${one.launcher.name} ${s.name}: FAILED ${e.stack ?? e}`);
      }
    };
    if (side) {
      // Side by side: every broker of the round under its own load, over the same seconds.
      const meet = rendezvous(round.length);
      const results = await Promise.allSettled(round.map((one) => attempt(one.launcher, s, r, meet())));
      for (const [k, one] of round.entries()) settle(one, results[k]!);
    } else {
      for (const one of round) {
        const [result] = await Promise.allSettled([attempt(one.launcher, s, r)]);
        settle(one, result!);
      }
    }
  }
  for (const row of scenarioRows) {
    const list = attempts.get(row.broker)!;
    if (row.status !== 'ok' || !list.length) continue;
    // The run with the median rate stands for the row (at a fixed rate: the median CPU per message);
    // all runs are kept in the JSON.
    const key = (a: Attempt) =>
      s.kind === 'rate' ? a.measurement.brokerCpuMicrosPerUnit : a.measurement.rate;
    const sorted = [...list].sort((a, b) => key(a) - key(b));
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
    row.measurement = median.measurement;
    row.peakRssKb = median.peakRssKb;
    if (list.length > 1)
      row.runs = list.map((a) => ({
        ...a.measurement,
        peakRssKb: a.peakRssKb,
        round: a.round,
        loadAverage: a.loadAverage,
      }));
    if (s.kind === 'throughput' && row.broker === 'mosquitto')
      saturatedRates.set(s.name, median.measurement.rate);
  }
}

let history: HistoryFigures | { failed: string } | undefined;
if (wantHistory) {
  log(`${HISTORY}: the history recorder's figures, in this process${values.quick ? ' (quick)' : ''}`);
  try {
    history = await historyFigures(values.quick);
  } catch (e) {
    history = { failed: (e as Error).stack ?? String(e) };
    log(`${HISTORY}: FAILED ${history.failed}`);
  }
}

let toggle: ToggleFigures | { failed: string } | undefined;
if (wantToggle) {
  log(`${RECORDER_TOGGLE}: the recorder detached and attached in turns inside one broker at hub@1k`);
  try {
    // --repeat N (default 3, as for the other scenarios): N times 24 windows. The pooled figure's error
    // shrinks as √N: on one tree, runs of 24 gave 1.06× and 1.17×, runs of 72 1.02× and 1.05×.
    toggle = await recorderToggleFigures(values.quick, workers, repeat);
  } catch (e) {
    toggle = { failed: (e as Error).stack ?? String(e) };
    log(`${RECORDER_TOGGLE}: FAILED ${toggle.failed}`);
  }
}

const ratios = computeRatios(rows);
const out = [
  '',
  formatResults(rows.filter((r) => !isOpenLoop(r))),
  '',
  'Ratios (broker ÷ reference; rate: higher is better; CPU/unit, p99, peak RSS: lower is better):',
  formatRatios(ratios.filter((r) => !openLoopNames.has(r.scenario))),
];
if (rows.some(isOpenLoop)) {
  out.push(
    '',
    'Fixed rate, open loop (latency from the scheduled send time; CPU from the scheduler, to the ns):',
    formatOpenLoopResults(rows.filter(isOpenLoop)),
    '',
    'Fixed-rate ratios (broker ÷ reference; lower is better):',
    formatOpenLoopRatios(ratios.filter((r) => openLoopNames.has(r.scenario))),
  );
}
const paired = pairedRatios(rows);
if (paired.length)
  out.push(
    '',
    "Feature cost, runs paired in the order they ran (median of the pairs' ratios, min-max; lower is better):",
    formatPairedRatios(paired),
  );
if (history)
  out.push(
    '',
    `History (${HISTORY}: the recorder without a broker, in this process):`,
    'failed' in history ? `FAILED: ${history.failed.split('\n')[0]}` : formatHistoryFigures(history),
  );
if (toggle)
  out.push(
    '',
    `The recorder's cost (${RECORDER_TOGGLE}: on vs off in turns, one broker):`,
    'failed' in toggle ? `FAILED: ${toggle.failed.split('\n')[0]}` : formatToggleFigures(toggle),
  );
const problems = rows.flatMap((r) =>
  (r.measurement?.problems ?? []).map((p) => `${r.scenario} ${r.broker}: ${p}`),
);
if (problems.length) out.push('', 'Problems:', ...problems.slice(0, 30));
if (values.quick)
  out.push('', '(--quick: small counts and short intervals; the figures only show that everything runs.)');
const targets = formatTargets(ratios);
if (targets) out.push('', 'Targets (issue 2):', targets);
process.stdout.write(`${out.join('\n')}\n`);

const result = {
  date: new Date().toISOString(),
  quick: values.quick,
  durationSeconds: Math.round((Date.now() - started) / 1000),
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '',
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    kernel: os.release(),
    node: process.version,
    clockTicks: CLK_TCK,
  },
  versions: { mosquitto: mosquittoVersion(), aedes: aedesVersion() },
  loadGenerator: { threads: workers, openFiles: nofile },
  repeat,
  scenarios: selectedScenarios,
  results: rows,
  ratios,
  paired,
  ...(history ? { history } : {}),
  ...(toggle ? { recorderToggle: toggle } : {}),
};
mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
log(`wrote ${values.out} (${result.durationSeconds} s)`);
process.exitCode =
  rows.some((r) => r.status === 'failed') ||
  (history && 'failed' in history) ||
  (toggle && 'failed' in toggle)
    ? 1
    : 0;
