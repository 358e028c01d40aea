// `mothership sim --light`: plain Node boards, no interpreter, against a real `mothership up`. Every
// message the sim says went out (QoS 1 acknowledged, QoS 0 written to a live link) reaches an
// MQTT.js subscriber, board by board: a board's own topics by count, the shared ones (to_mothership,
// hello) by their `#N` numbers (each board numbers its own from 0, so every #k arrives once per board
// that sent it), and none was dropped. The 1,000 boards for 30 s; SIM_LIGHT_BOARDS and
// SIM_LIGHT_SECONDS shrink it for a quick run.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LightFleet } from '../../../src/devices/sim/light/light-fleet.js';
import { type RunningCli, startCli } from '../../helpers/cli.js';
import { type SimProcess, startSim } from './sim-process.js';

const BOARDS = Number(process.env.SIM_LIGHT_BOARDS ?? 1000);
const SECONDS = Number(process.env.SIM_LIGHT_SECONDS ?? 30);
// The seeds' mix: a quarter mothership, a quarter led-remote (in pairs), the rest dht, and one
// conversation pair only: every machine2 answers every machine1's hello on the same two topics, as
// the seeds have it, so N pairs would make N² answers.
const FLEET = `mothership:${BOARDS / 4},led-remote:${BOARDS / 8},dht:${BOARDS / 2 - 2},conversation:1`;
const COUNTED = ['to_mothership', 'testincr', '+/soil', '+/btn/0', 'hello', 'notification'];
/** Topics every board of a kind shares: told apart by the payload's #N. */
const NUMBERED = ['to_mothership', 'hello'];

let broker: RunningCli;
let port: number;
let sim: SimProcess | undefined;
let sub: mqtt.MqttClient;
let subscriberDrops = 0;
const got = new Map<string, number>();
/** For the shared topics: how many times each #N arrived. */
const numbers = new Map<string, Map<number, number>>();

beforeAll(async () => {
  // `mothership up` with no per-client queue limit: at ~1,300 messages/s a subscriber in this busy
  // process falls behind, and the default (1,000 queued, as mosquitto) would drop the excess.
  const conf = join(mkdtempSync(join(tmpdir(), 'ms-light-')), 'mothership.conf');
  writeFileSync(
    conf,
    'listener 0 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n',
  );
  broker = startCli(['up', '-c', conf, '--no-mdns']);
  port = Number((await broker.waitFor(/mqtt:\/\/127\.0\.0\.1:(\d+)/, 30_000))[1]);
  // A persistent session that reconnects: were it dropped, the broker keeps its QoS 1 messages.
  sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: 'light-counter',
    clean: false,
    reconnectPeriod: 1000,
  });
  await sub.subscribeAsync(COUNTED, { qos: 1 });
  sub.on('close', () => subscriberDrops++);
  sub.on('message', (topic, payload) => {
    got.set(topic, (got.get(topic) ?? 0) + 1);
    if (NUMBERED.includes(topic)) {
      const n = Number(/#(\d+)$/.exec(payload.toString())?.[1] ?? -1);
      const seen = numbers.get(topic) ?? new Map<number, number>();
      numbers.set(topic, seen.set(n, (seen.get(n) ?? 0) + 1));
    }
  });
});
afterAll(async () => {
  await sim?.stop();
  await sub?.endAsync();
  await broker?.stop();
});

it(`${BOARDS} light boards for ${SECONDS} s: every message accounted for`, {
  timeout: (SECONDS + 240) * 1000,
}, async () => {
  sim = startSim(port, [
    '--light',
    // the firmware's own timings (keepalive 60 s, retry 5 s): a loaded machine answering a ping
    // late must not make a thousand boards flap
    '--calm',
    '--seed',
    '3',
    '--boards',
    FLEET,
  ]);
  // The 30 s count from when the whole fleet is up (on a loaded machine the connects alone take a
  // while); SIGTERM then stops the apps, lets the outboxes empty and prints what was sent.
  const up = await sim.waitFor(new RegExp(`all ${BOARDS} boards online in ([\\d.]+) s`), 180_000);
  console.log(`[figure] light: all ${BOARDS} boards online ${up[1]} s after start`);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  sim.child.kill('SIGTERM');
  const line = (await sim.waitFor(/stats (\{.*\})/, 60_000))[1]!;
  const stats = JSON.parse(line) as ReturnType<LightFleet['stats']>;
  const total = Object.values(stats.sent).reduce((a, b) => a + b, 0);
  console.log(
    `[figure] light: ${BOARDS} boards ${SECONDS} s, ${total} messages sent, ${stats.droppedQos0} QoS 0 published before the first connect; ${sim.output().match(/all \d+ boards online in [\d.]+ s \(memory ([\d.]+) MB\)/)?.[1]} MB RSS`,
  );
  expect(stats.dropped).toBe(0);
  expect(stats.lost).toBe(0);
  expect(stats.pending).toBe(0);
  expect(Object.keys(stats.perBoard)).toHaveLength(BOARDS);

  // What the subscriber must have: per board for a board's own topics, per #N for the shared ones.
  const want = new Map<string, number>();
  const wantNumbers = new Map<string, Map<number, number>>();
  for (const [board, topics] of Object.entries(stats.perBoard)) {
    expect({ board, sent: Object.values(topics).reduce((a, b) => a + b, 0) > 0 }).toEqual({
      board,
      sent: true,
    });
    for (const [topic, n] of Object.entries(topics)) {
      if (!/^(to_mothership|testincr|hello|notification)$|\/(soil|btn\/0)$/.test(topic)) continue;
      if (NUMBERED.includes(topic)) {
        const m = wantNumbers.get(topic) ?? new Map<number, number>();
        for (let k = 0; k < n; k++) m.set(k, (m.get(k) ?? 0) + 1);
        wantNumbers.set(topic, m);
      }
      want.set(topic, (want.get(topic) ?? 0) + n);
    }
  }
  expect(want.get('to_mothership')).toBeGreaterThan(BOARDS / 4); // each board published more than once
  // QoS 1 is at least once: a message resent with DUP (no PUBACK within retry_ms on a loaded
  // machine) may arrive twice, and only that excuses an extra one.
  const extra = (t: string) => stats.resent[t] ?? 0;
  const accounted = () =>
    [...want].every(([t, n]) => (got.get(t) ?? 0) >= n && (got.get(t) ?? 0) <= n + extra(t));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !accounted()) await new Promise((r) => setTimeout(r, 100));
  expect(subscriberDrops).toBe(0); // QoS 0 (btn/0) would be lost with the link
  // Board by board (a mismatch names the boards' topics), then the shared topics number by number.
  const differ = [...want]
    .filter(([t, n]) => (got.get(t) ?? 0) < n || (got.get(t) ?? 0) > n + extra(t))
    .map(([t, n]) => `${t}: sent ${n} (${extra(t)} resent), received ${got.get(t) ?? 0}`);
  expect(differ).toEqual([]);
  expect([...got.keys()].filter((t) => !want.has(t))).toEqual([]);
  for (const topic of NUMBERED) {
    const seen = numbers.get(topic) ?? new Map<number, number>();
    const short = [...(wantNumbers.get(topic) ?? [])].filter(([k, n]) => (seen.get(k) ?? 0) < n);
    expect({ topic, short }).toEqual({ topic, short: [] });
  }
  console.log(
    `[figure] light: ${Object.values(stats.resent).reduce((a, b) => a + b, 0)} QoS 1 resent with DUP; received ${[...got.values()].reduce((a, b) => a + b, 0)} of ${[...want.values()].reduce((a, b) => a + b, 0)} counted`,
  );
  expect(await sim.exited()).toBe(0);
});
