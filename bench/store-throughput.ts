/**
 * Store throughput: enqueue + afterDurable per message, as the broker does before a QoS 1 PUBACK.
 * `clients` publishers each wait for their acknowledgement before the next message, so with 1 client
 * every message waits for its own commit, and with 100 a group commit can share one fsync.
 * Usage: node --import tsx bench/store-throughput.ts [secondsPerRun=2]   (total under 30 s)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DurabilityPolicy } from '../src/broker/ports/persistence.js';
import { openSqliteStore } from '../src/store/index.js';

const seconds = Number(process.argv[2] ?? 2);
const payload = Buffer.alloc(64, 0x61);

async function run(policy: DurabilityPolicy, clients: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ms-bench-store-'));
  const store = openSqliteStore({ dir, policy });
  const deadline = performance.now() + seconds * 1000;
  let acked = 0;
  let failed = 0;
  const publisher = async (id: number): Promise<void> => {
    const clientId = `board-${id}`;
    while (performance.now() < deadline) {
      store.enqueue(clientId, {
        message: { topic: `${clientId}/sensor`, payload, qos: 1, retain: false, receivedAt: Date.now() },
        qos: 1,
        retain: false,
      });
      const err = await new Promise<Error | undefined>((resolve) => store.afterDurable(resolve));
      if (err) failed++;
      else acked++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, (_, i) => publisher(i)));
  const elapsed = (performance.now() - t0) / 1000;
  const { transactions } = store.stats();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  const label = policy.mode === 'grouped' ? `grouped(${policy.maxDelayMs}ms)` : policy.mode;
  console.log(
    `${label.padEnd(14)} clients=${String(clients).padStart(3)}  ${Math.round(acked / elapsed)
      .toString()
      .padStart(
        7,
      )} msg/s  ${transactions} transactions (${(acked / Math.max(1, transactions)).toFixed(1)} msg/commit)` +
      (failed ? `  ${failed} failed` : ''),
  );
}

console.log(
  `store throughput, enqueue+afterDurable, 64-byte payloads, ${seconds}s per run, data in ${tmpdir()}`,
);
await run({ mode: 'every-message' }, 1);
await run({ mode: 'grouped', maxDelayMs: 2 }, 1);
await run({ mode: 'grouped', maxDelayMs: 0 }, 1);
await run({ mode: 'every-message' }, 100);
await run({ mode: 'grouped', maxDelayMs: 2 }, 100);
await run({ mode: 'grouped', maxDelayMs: 0 }, 100);
await run({ mode: 'periodic', intervalSeconds: 1 }, 100);
