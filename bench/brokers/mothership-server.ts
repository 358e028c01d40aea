/**
 * Mothership's broker for the benchmark: `new Broker(...)` from the package entry point, listening
 * on a free loopback port. Prints `PORT <n>`, or `UNAVAILABLE <why>` when the entry point does not
 * (yet) export a Broker that can listen. Run with `node --import tsx bench/brokers/mothership-server.ts [host]`.
 */
const host = process.argv[2] ?? '127.0.0.1';

interface BenchBroker {
  listen(options: { port: number; host: string }): Promise<{ port: number }>;
  close(): Promise<void>;
}
type BrokerClass = new (options: Record<string, unknown>) => BenchBroker;

let Broker: BrokerClass | undefined;
try {
  const mod = (await import('../../src/index.js')) as Record<string, unknown>;
  const candidate = mod.Broker;
  if (
    typeof candidate === 'function' &&
    typeof (candidate as { prototype?: { listen?: unknown } }).prototype?.listen === 'function'
  ) {
    Broker = candidate as BrokerClass;
  } else {
    process.stdout.write('UNAVAILABLE src/index.ts does not export a Broker with listen()\n');
  }
} catch (e) {
  const first = String((e as Error)?.message ?? e).split('\n')[0];
  process.stdout.write(`UNAVAILABLE src/index.ts does not load: ${first}\n`);
}
if (!Broker) process.exit(3);

// Same limits as the generated mosquitto.conf: queues large enough that no scenario drops messages.
const options: Record<string, unknown> = { maxQueuedMessages: 1_000_000, maxInflightMessages: 20 };
// Persistence as `mothership up` uses it: SQLite, acknowledgements after a grouped fsync.
let dataDir: string | undefined;
if (process.env.BENCH_PERSISTENCE === '1') {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { openSqliteStore } = await import('../../src/store/index.js');
  dataDir = mkdtempSync(join(tmpdir(), 'bench-mothership-'));
  options.persistence = openSqliteStore({
    dir: dataDir,
    policy: { mode: 'grouped', maxDelayMs: Number(process.env.BENCH_GROUP_DELAY_MS ?? 2) },
  });
  // 0 writes every in-flight row a subscriber has not acknowledged by the next timer tick: the
  // disk-bound case of a subscriber that never keeps up.
  if (process.env.BENCH_INFLIGHT_WRITE_DELAY_MS !== undefined)
    options.inflightWriteDelayMs = Number(process.env.BENCH_INFLIGHT_WRITE_DELAY_MS);
}
const broker = new Broker(options);
// The hub as `mothership up` wires it (history in its own database in a scratch folder).
let hub: { close(): Promise<void> } | undefined;
let hubDir: string | undefined;
if (process.env.BENCH_HUB === '1') {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { Hub } = await import('../../src/hub/hub.js');
  const { HistoryRecorder } = await import('../../src/hub/history/index.js');
  const { allowEveryone } = await import('../../src/broker/auth.js');
  hubDir = mkdtempSync(join(tmpdir(), 'bench-hub-'));
  const history = new HistoryRecorder({ dir: hubDir });
  hub = new Hub({ broker: broker as never, access: allowEveryone, history });
  // The recorder-toggle section: the recorder detached and attached again in turns, each window's CPU
  // per message written to a file (bench/recorder-toggle.ts).
  if (process.env.BENCH_RECORDER_WINDOWS) {
    const { toggleRecorder } = await import('../recorder-windows.js');
    toggleRecorder(broker as never, history, {
      file: process.env.BENCH_RECORDER_WINDOWS,
      windowMs: Number(process.env.BENCH_RECORDER_WINDOW_MS ?? 10_000),
    });
  }
}
// A bridge (`connection` block, the bridge scenarios): parsed and started as `mothership up -c` does.
let bridges: { stop(): Promise<void> } | undefined;
if (process.env.BENCH_BRIDGE) {
  const { parseConfig } = await import('../../src/config/mosquitto-conf.js');
  const { mothershipDirectives } = await import('../../src/app/config-file.js');
  const { bridgesOf } = await import('../../src/bridge/bridge-directives.js');
  const { Bridges } = await import('../../src/bridge/bridges.js');
  const { createLogger } = await import('../../src/app/logger.js');
  const config = parseConfig(process.env.BENCH_BRIDGE, 'bench-bridge.conf', mothershipDirectives());
  await (broker as unknown as { ready: Promise<void> }).ready;
  const started = new Bridges(broker as never, createLogger({ format: 'text', level: 'silent' }));
  started.start(bridgesOf(config));
  bridges = started;
}
const listener = await broker.listen({ port: 0, host });
process.stdout.write(`PORT ${listener.port}\n`);
const stop = () => {
  Promise.resolve(hub?.close())
    .then(() => bridges?.stop())
    .then(() => broker.close())
    .finally(async () => {
      const { rmSync } = await import('node:fs');
      for (const dir of [dataDir, hubDir]) if (dir) rmSync(dir, { recursive: true, force: true });
    })
    .then(
      () => process.exit(0),
      () => process.exit(1),
    );
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
