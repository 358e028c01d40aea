// A QoS 1 message whose PUBACK was lost is sent again by the broker, with DUP set, when the board
// comes back on its persistent session. The board acknowledges the resend of the message it just
// handled without handling it again: conversation's machine1, which toggles its LED for every
// `received`, keeps it on.
import { expect, it } from 'vitest';
import { AP, boardConfig } from './harness/config.js';
import { bench } from './harness/fixture.js';
import { startProxy } from './harness/proxy.js';
import { mosquittoPub } from './harness/seeds.js';
import { until } from './harness/wait.js';

const t = bench();

it('a resent (DUP) QoS 1 message after a lost PUBACK is acknowledged, not handled twice', {
  timeout: 40_000,
}, async () => {
  const proxy = await startProxy(t.broker.port);
  try {
    const b = await t.board({
      app: 'conversation',
      config: boardConfig('esp32-redeliver', proxy.port, { role: 'machine1', interval_ms: 60_000 }),
      accessPoints: { [AP.ssid]: AP.password },
    });
    await b.waitFor(/^mqtt: up 1$/, 10_000);
    expect(b.pins.get(2)).toBe(0);

    // The board hears the broker but nothing it sends arrives: the message is handled (LED on)
    // and its PUBACK is lost; the board then finds the link dead (no PINGRESP) and reconnects.
    proxy.set('uplink-lost');
    const sent = Date.now();
    await mosquittoPub(t.broker.port, ['-q', '1', '-t', 'notification', '-m', 'received']);
    await b.waitFor(/^machine1: machine2 received it$/, 5000, sent);
    await until(() => b.pins.get(2) === 1, 5000, 'the LED on');
    await b.waitFor(/^mqtt: link lost/, 10_000, sent);
    proxy.set('forward');
    await b.waitFor(/^mqtt: up 2$/, 10_000, sent);

    // Messages on one subscription arrive in order: once the marker is printed, the resend was read.
    await mosquittoPub(t.broker.port, ['-q', '1', '-t', 'notification', '-m', 'marker']);
    await b.waitFor(/^\('notification', b'marker'\)$/, 10_000, sent);
    // the broker did send it twice (the second time with DUP set) ...
    const publishes = proxy.fromBroker.match(/notification[\s\S]{2}received/g) ?? [];
    expect(publishes).toHaveLength(2);
    // ... and the board handled it once
    expect(b.since(sent).filter((l) => l.text === "('notification', b'received')")).toHaveLength(1);
    expect(b.pins.get(2)).toBe(1);
  } finally {
    await proxy.close();
  }
});
