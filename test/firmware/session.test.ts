// Boards keep a persistent session (clean session off): the broker keeps their subscriptions and
// queues QoS 1 messages for them, so seed 004's `mosquitto_pub -t output -m on -q 1`, sent while the
// board is away, switches the LED once it is back.
import { expect, it } from 'vitest';
import { AP, boardConfig } from './harness/config.js';
import { bench } from './harness/fixture.js';
import { startProxy } from './harness/proxy.js';
import { mosquittoPub } from './harness/seeds.js';
import { until } from './harness/wait.js';

const t = bench();

it('a QoS 1 command sent while the board was offline reaches it when it is back', {
  timeout: 40_000,
}, async () => {
  const status = await t.sub(['-v', '-t', 'esp32-session/status']);
  const b = await t.board({
    app: 'dht',
    config: boardConfig('esp32-session', t.broker.port, { interval_ms: 500 }),
    accessPoints: { [AP.ssid]: AP.password },
  });
  await b.waitFor(/^mqtt: up 1$/, 10_000);
  await status.waitFor(/^esp32-session\/status online$/, 5000);
  expect(b.pins.get(2)).toBe(0);

  b.wifiOff();
  // the broker has given the board up (its will fired): nobody is connected to receive this
  await status.waitFor(/^esp32-session\/status offline$/, 15_000);
  await mosquittoPub(t.broker.port, ['-d', '-t', 'output', '-m', 'on', '-q', '1']);
  expect(b.pins.get(2)).toBe(0);

  const back = Date.now();
  b.wifiOn();
  await b.waitFor(/^mqtt: up 2$/, 15_000, back);
  await until(() => b.pins.get(2) === 1, 10_000, 'the LED switched on by the queued command');
  await b.waitFor(/^\('output', b'on'\)$/, 5000, back);

  // and the subscription itself survived with the session: a live command works too
  await mosquittoPub(t.broker.port, ['-t', 'output', '-m', 'off', '-q', '1']);
  await until(() => b.pins.get(2) === 0, 10_000, 'the LED switched off');
  expect(b.resets).toBe(0);
});

it('a link lost between CONNACK and SUBACK does not leave the kept session without subscriptions', {
  timeout: 60_000,
}, async () => {
  // The broker keeps the board's session from its first CONNECT, but the SUBSCRIBE never arrives:
  // at the next connect the broker says "session present", and the board must subscribe anyway.
  const proxy = await startProxy(t.broker.port);
  try {
    proxy.set('cut-at-subscribe');
    const b = await t.board({
      app: 'dht',
      config: boardConfig('esp32-halfsub', proxy.port, { interval_ms: 500 }),
      accessPoints: { [AP.ssid]: AP.password },
    });
    await b.waitFor(/^mqtt: up 2$/, 30_000);
    expect(proxy.accepted).toBeGreaterThanOrEqual(2);
    await mosquittoPub(t.broker.port, ['-t', 'output', '-m', 'on', '-q', '1']);
    await until(() => b.pins.get(2) === 1, 15_000, 'the LED switched on: the board subscribed again');
  } finally {
    await proxy.close();
  }
});
