import { connect } from 'node:net';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, hubUp } from './helpers.js';

afterAll(cleanup);

/** Sends raw bytes to the port and resolves with what came back before the socket closed. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
    });
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
    s.setTimeout(5000, () => s.destroy());
  });
}

describe('bad requests on the hub port lose nothing', () => {
  it('an upgrade request with an unparsable target is not taken by the hub and crashes nothing: the broker and the API go on', async () => {
    const { base, wsBase, mqttUrl } = await hubUp();
    const port = Number(new URL(base).port);
    const answer = await raw(
      port,
      'GET http://[ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    // Not the hub's path: MQTT over WebSocket takes it (any path, as mosquitto); nothing crashes.
    expect(answer).toMatch(/^HTTP\/1\.1 /);
    expect((await fetch(`${base}/api/devices`)).status).toBe(200);
    const c = await mqtt.connectAsync(`${wsBase}/mqtt`, { reconnectPeriod: 0 });
    await c.endAsync();
    const t = await mqtt.connectAsync(mqttUrl, { reconnectPeriod: 0 });
    await t.endAsync();
  }, 30_000);
});
