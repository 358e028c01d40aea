import { connect, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../helpers/broker.js';
import { connectPacket, encode, mutate, Rng, randomPacket } from './fuzz/packets.js';
import { describeErrors, trapUncaught } from './fuzz/uncaught.js';

/**
 * Random and mutated MQTT packets (3.1, 3.1.1 and 5.0) over many connections to one in-process broker.
 * Seeded: the seed is printed, and FUZZ_SEED=<n> replays the same packets. FUZZ_LONG=1 runs a long
 * campaign (2,000,000 packets, at most 10 minutes) instead of the default 200,000.
 */

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const LONG = process.env.FUZZ_LONG === '1';
const TARGET_PACKETS = LONG ? 2_000_000 : 200_000;
const TIME_LIMIT_MS = LONG ? 10 * 60_000 : 120_000; // a bound, not a target: a loaded machine is slower
const MAX_CONNECTIONS = LONG ? 400_000 : 20_000;
const CONCURRENCY = 16;

interface FuzzResult {
  packets: number;
  connections: number;
  ms: number;
  mutations: Record<string, number>;
  errors: unknown[];
}

let b: RunningBroker;
let result: FuzzResult;

const noop = () => {};

function open(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const t = setTimeout(() => {
      s.destroy();
      resolve(undefined);
    }, 2000);
    s.on('error', noop);
    s.on('data', noop); // keep reading, so no connection is dropped as a slow consumer
    s.once('connect', () => {
      clearTimeout(t);
      resolve(s);
    });
    s.once('close', () => {
      clearTimeout(t);
      resolve(undefined);
    });
  });
}

/** Resolves when the socket is closed (by the broker) or after `ms`, whichever comes first. */
function closedOrAfter(s: Socket, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve();
    const t = setTimeout(resolve, ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** One connection: maybe a valid CONNECT, then a batch of valid and mutated packets in a few writes. */
async function fuzzConnection(rng: Rng, port: number, counts: FuzzResult): Promise<void> {
  const version = rng.pick([3, 4, 4, 5, 5] as const);
  const packetVersion: 4 | 5 = version === 5 ? 5 : 4;
  const parts: Buffer[] = [];
  const opening = rng.int(10);
  // A few shared client ids (session takeover, resumed sessions); most are unique.
  const clientId = rng.chance(0.1) ? `fz${rng.int(20)}` : `fz-${rng.int(2 ** 30)}`;
  const connectBytes = encode(connectPacket(rng, version, clientId), version)!;
  if (opening === 0) {
    // Garbage before (or instead of) CONNECT.
    const { bytes, how } = mutate(rng, connectBytes, connectBytes);
    counts.mutations[`connect:${how}`] = (counts.mutations[`connect:${how}`] ?? 0) + 1;
    parts.push(bytes);
  } else if (opening === 1) {
    parts.push(rng.bytes(1 + rng.int(200)));
  } else {
    parts.push(connectBytes);
  }
  // The broker drops a connection at its first malformed packet, so most connections are valid
  // sessions with one to three mutated packets somewhere in them; some are mutated throughout.
  const n = 3 + rng.int(50);
  const style = rng.int(10);
  const rate = style < 7 ? 0 : style < 9 ? rng.pick([0.02, 0.1]) : rng.pick([0.5, 1]);
  const mutateAt = new Set(style < 7 ? Array.from({ length: 1 + rng.int(3) }, () => rng.int(n)) : []);
  let previous = connectBytes;
  for (let i = 0; i < n; i++) {
    const valid = encode(randomPacket(rng, packetVersion), packetVersion);
    if (!valid) continue;
    if (mutateAt.has(i) || rng.chance(rate)) {
      const { bytes, how } = mutate(rng, valid, previous);
      counts.mutations[how] = (counts.mutations[how] ?? 0) + 1;
      parts.push(bytes);
    } else {
      parts.push(valid);
    }
    previous = valid;
  }
  const socket = await open(port);
  if (!socket) return;
  counts.connections++;
  counts.packets += parts.length;
  // One to three writes, split at arbitrary byte offsets.
  const all = Buffer.concat(parts);
  const cuts = [0, rng.int(all.length + 1), rng.int(all.length + 1), all.length].sort((x, y) => x - y);
  for (let i = 0; i + 1 < cuts.length; i++) {
    if (socket.destroyed) break;
    if (cuts[i] !== cuts[i + 1]) socket.write(all.subarray(cuts[i], cuts[i + 1]));
  }
  // Usually a FIN right after the bytes, so the broker reads all of them before it sees the end; sometimes
  // the connection is left open for a moment (timers, keepalive) and then reset.
  if (rng.chance(0.8)) {
    socket.end();
    await closedOrAfter(socket, 1000);
  } else {
    await closedOrAfter(socket, 10 + rng.int(100));
  }
  socket.destroy();
}

async function runFuzz(port: number): Promise<FuzzResult> {
  const counts: FuzzResult = { packets: 0, connections: 0, ms: 0, mutations: {}, errors: [] };
  const started = Date.now();
  let index = 0;
  const worker = async () => {
    while (
      counts.packets < TARGET_PACKETS &&
      index < MAX_CONNECTIONS &&
      Date.now() - started < TIME_LIMIT_MS
    ) {
      // Each connection's bytes come from (seed, its index) alone, whatever the interleaving.
      const rng = new Rng((SEED ^ Math.imul(++index, 0x9e3779b1)) >>> 0);
      await fuzzConnection(rng, port, counts);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  counts.ms = Date.now() - started;
  return counts;
}

beforeAll(
  async () => {
    console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})${LONG ? ' [FUZZ_LONG]' : ''}`);
    b = await startBroker({ maxPacketSize: 64 * 1024 });
    const trap = trapUncaught();
    try {
      result = await runFuzz(b.port);
      // Let the broker finish with the last connections (timers, closes) while still trapped.
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      trap.restore();
    }
    result.errors = trap.errors;
    console.log(
      `fuzz: ${result.packets} packets over ${result.connections} connections in ${result.ms} ms; ` +
        `${result.errors.length} uncaught errors; ` +
        `mutations: ${JSON.stringify(result.mutations)}`,
    );
  },
  LONG ? 15 * 60_000 : 180_000,
);

afterAll(async () => {
  await b?.close();
});

describe(`broker fuzz (seed ${SEED})`, () => {
  it(`fed at least ${TARGET_PACKETS} random and mutated packets over many connections`, () => {
    expect(result.packets).toBeGreaterThanOrEqual(TARGET_PACKETS);
    expect(result.connections).toBeGreaterThan(100);
    expect(Object.keys(result.mutations).length).toBeGreaterThan(10);
  });

  it('the broker threw nothing: no uncaught exception or unhandled rejection', () => {
    expect(result.errors, `seed ${SEED}:\n${describeErrors(result.errors.slice(0, 5))}`).toEqual([]);
  });

  it('afterwards a well-behaved MQTT.js client connects, subscribes and gets a QoS 1 message', async () => {
    const client = await mqtt.connectAsync(b.url, {
      clientId: 'after-fuzz',
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    try {
      const granted = await client.subscribeAsync('after/fuzz', { qos: 1 });
      expect(granted[0]!.qos).toBe(1);
      const got = new Promise<{ payload: string; qos: number }>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no message within 5 s')), 5000);
        client.on('message', (_topic, payload, packet) => {
          clearTimeout(t);
          resolve({ payload: payload.toString(), qos: packet.qos });
        });
      });
      const publisher = await mqtt.connectAsync(b.url, { reconnectPeriod: 0, connectTimeout: 5000 });
      await publisher.publishAsync('after/fuzz', 'still alive', { qos: 1 });
      await publisher.endAsync();
      expect(await got).toEqual({ payload: 'still alive', qos: 1 });
    } finally {
      await client.endAsync(true);
    }
  });
});
