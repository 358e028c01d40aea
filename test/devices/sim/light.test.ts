// `mothership sim --light`: plain Node boards, no interpreter, against a real `mothership up`. Every
// message the sim says went out (QoS 1 acknowledged, QoS 0 written to a live link) reaches an
// MQTT.js subscriber, topic by topic, and none was dropped. Default: 200 boards for 8 s, light
// enough for a loaded 2-core machine; SIM_LIGHT_FULL=1 runs the 1,000 boards for 30 s.
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../../firmware/harness/broker.js';
import { type SimProcess, startSim } from './sim-process.js';

const FULL = process.env.SIM_LIGHT_FULL === '1';
const BOARDS = FULL ? 1000 : 200;
const SECONDS = FULL ? 30 : 8;
// The seeds' mix: a quarter mothership, a quarter led-remote (in pairs), the rest dht, and one
// conversation pair only: every machine2 answers every machine1's hello on the same two topics, as
// the seeds have it, so N pairs would make N² answers.
const FLEET = `mothership:${BOARDS / 4},led-remote:${BOARDS / 8},dht:${BOARDS / 2 - 2},conversation:1`;
const COUNTED = ['to_mothership', 'testincr', '+/soil', '+/btn/0', 'hello', 'notification'];

let broker: TestBroker;
let sim: SimProcess | undefined;
let sub: mqtt.MqttClient;
const got = new Map<string, number>();

beforeAll(async () => {
  broker = await startBroker();
  sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { reconnectPeriod: 0 });
  await sub.subscribeAsync(COUNTED, { qos: 1 });
  sub.on('message', (topic) => {
    const key = /\/soil$/.test(topic) ? '<device>/soil' : /\/btn\/0$/.test(topic) ? '<device>/btn/0' : topic;
    got.set(key, (got.get(key) ?? 0) + 1);
  });
});
afterAll(async () => {
  await sim?.stop();
  await sub?.endAsync();
  await broker?.close();
});

it(`${BOARDS} light boards for ${SECONDS} s: every message accounted for`, { timeout: 180_000 }, async () => {
  sim = startSim(broker.port, [
    '--light',
    '--fast',
    '--calm',
    '--seed',
    '3',
    '--boards',
    FLEET,
    '--duration',
    String(SECONDS),
  ]);
  await sim.waitFor(new RegExp(`all ${BOARDS} boards online`), 60_000);
  const line = (await sim.waitFor(/stats (\{.*\})/, (SECONDS + 60) * 1000))[1]!;
  const stats = JSON.parse(line) as {
    sent: Record<string, number>;
    dropped: number;
    pending: number;
    droppedQos0: number;
  };
  console.log(
    `[figure] light: ${BOARDS} boards ${SECONDS} s, ${Object.values(stats.sent).reduce((a, b) => a + b, 0)} messages sent, ${stats.droppedQos0} QoS 0 published before the first connect; ${sim.output().match(/all \d+ boards online \(memory ([\d.]+) MB\)/)?.[1]} MB RSS`,
  );
  expect(stats.dropped).toBe(0);
  expect(stats.pending).toBe(0);
  const want = Object.fromEntries(
    Object.entries(stats.sent).filter(([t]) =>
      ['to_mothership', 'testincr', '<device>/soil', '<device>/btn/0', 'hello', 'notification'].includes(t),
    ),
  );
  expect(want.to_mothership).toBeGreaterThan(BOARDS / 4); // each board published more than once
  const deadline = Date.now() + 30_000;
  while (
    Date.now() < deadline &&
    JSON.stringify(Object.fromEntries([...got].sort())) !==
      JSON.stringify(Object.fromEntries(Object.entries(want).sort()))
  ) {
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(Object.fromEntries([...got].sort())).toEqual(Object.fromEntries(Object.entries(want).sort()));
  expect(await sim.exited()).toBe(0);
});
