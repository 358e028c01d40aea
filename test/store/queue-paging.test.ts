import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { BrokerCore } from '../../src/broker/broker-core.js';
import type { Broker } from '../../src/index.js';
import { openSqliteStore } from '../../src/store/index.js';
import { type RunningBroker, startBroker } from '../helpers/broker.js';
import { cleanupTempDirs, tempDir } from './helpers.js';

// Messages queued for offline persistent sessions live in SQLite: only a window per session is in RAM,
// the rest is paged in as the client drains it, in order, exactly once, across restarts.

const N = 100_000;
const brokers: RunningBroker[] = [];
const clients: MqttClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  for (const b of brokers.splice(0)) await b.close();
});
afterAll(() => cleanupTempDirs());

function core(broker: Broker): BrokerCore {
  return (broker as unknown as { core: BrokerCore }).core;
}

/** A full GC when the flag can be turned on at run time (vitest workers start without --expose-gc). */
function collect(): void {
  try {
    setFlagsFromString('--expose_gc');
    (runInNewContext('gc') as () => void)();
  } catch {
    // no gc available: heap figures include garbage, the bound is generous
  }
}

async function heapUsed(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    collect();
  }
  // Payload Buffers live outside the JS heap (arrayBuffers): count both.
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function payload(i: number): Buffer {
  return Buffer.from(String(i).padStart(64, '0'));
}

async function up(dir: string, extra: Parameters<typeof startBroker>[0] = {}): Promise<RunningBroker> {
  const b = await startBroker({
    persistence: openSqliteStore({ dir, policy: { mode: 'grouped', maxDelayMs: 2 } }),
    maxQueuedMessages: 200_000,
    ...extra,
  });
  brokers.push(b);
  return b;
}

function subscriber(b: RunningBroker, clientId: string): MqttClient {
  const c = mqtt.connect(b.url, { clientId, clean: false, reconnectPeriod: 0, connectTimeout: 5000 });
  c.on('error', () => {});
  clients.push(c);
  return c;
}

async function waitFor(cond: () => boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Subscribes with a persistent session, then goes offline. */
async function subscribeThenLeave(b: RunningBroker, clientId: string, filter: string): Promise<void> {
  const c = subscriber(b, clientId);
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  await c.subscribeAsync(filter, { qos: 1 });
  await c.endAsync();
  await waitFor(() => core(b.broker).connections.size === 0, 'the subscriber to be offline', 5000);
}

/** Reconnects and collects message indices until `count` arrived (acked by MQTT.js as they come). */
async function drain(b: RunningBroker, clientId: string, count: number, ms: number): Promise<number[]> {
  const got: number[] = [];
  const c = subscriber(b, clientId);
  c.on('message', (_topic, p) => got.push(Number(p.toString())));
  await waitFor(() => got.length >= count, `${count} messages (got ${got.length})`, ms);
  // Nothing more: exactly once.
  await new Promise((r) => setTimeout(r, 300));
  return got;
}

describe('offline queues are paged from SQLite', () => {
  it('100,000 queued QoS 1 messages do not grow the heap by 100,000 messages, and all arrive in order', async () => {
    const b = await up(tempDir('ms-paging-'));
    await subscribeThenLeave(b, 'pager', 'fleet/#');
    const session = core(b.broker).sessions.get('pager')!;
    const before = await heapUsed();
    let maxInMemory = 0;
    const started = Date.now();
    for (let i = 0; i < N; i++) {
      b.broker.publish({ topic: 'fleet/data', payload: payload(i), qos: 1 });
      if (i % 1000 === 999) {
        maxInMemory = Math.max(maxInMemory, session.queue.length);
        await new Promise((r) => setImmediate(r)); // let the store commit, as network input would
      }
      if (Date.now() - started > 30_000) throw new Error(`publishing too slow: ${i} in 30 s`);
    }
    maxInMemory = Math.max(maxInMemory, session.queue.length);
    const after = await heapUsed();
    const growthMB = (after - before) / 2 ** 20;
    console.log(
      `queue-paging: heap growth for ${N} queued messages: ${growthMB.toFixed(1)} MB, ` +
        `max in memory ${maxInMemory}`,
    );
    // All 100,000 in memory grew it by about 37 MB (heap 31 MB + payloads) before paging; now < 1 MB.
    expect(growthMB).toBeLessThan(10);
    expect(maxInMemory).toBeLessThanOrEqual(256);
    expect(session.queuedCount).toBe(N);

    const got = await drain(b, 'pager', N, 40_000);
    expect(got.length).toBe(N);
    let inOrder = true;
    for (let i = 0; i < N; i++) if (got[i] !== i) inOrder = false;
    expect(inOrder).toBe(true);
    expect(session.queuedCount).toBe(0);
  }, 90_000);
});
