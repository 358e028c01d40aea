// /api/publish with MQTT v5 properties: an MQTT v5 subscriber gets them as set; a bad one is a clear
// 400 and nothing is published.
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, hubUp, post } from './helpers.js';

afterAll(cleanup);

describe('/api/publish with v5 properties', () => {
  it('delivers content type, response topic, correlation data, user properties and expiry to a v5 subscriber', async () => {
    const { base, mqttUrl } = await hubUp();
    const sub = await mqtt.connectAsync(mqttUrl, { reconnectPeriod: 0, protocolVersion: 5 });
    await sub.subscribeAsync('lab/cmd', { qos: 1 });
    const got = new Promise<mqtt.IPublishPacket>((resolve) =>
      sub.on('message', (_t, _p, packet) => resolve(packet)),
    );
    const res = await post(`${base}/api/publish`, {
      topic: 'lab/cmd',
      payload: '{"led":"on"}',
      qos: 1,
      properties: {
        contentType: 'application/json',
        responseTopic: 'lab/reply',
        correlationData: 'req-7',
        userProperties: [
          ['site', 'lab'],
          ['site', 'attic'],
          ['by', 'dashboard'],
        ],
        messageExpiryInterval: 60,
      },
    });
    expect(res.status).toBe(200);
    const packet = await got;
    expect(packet.payload.toString()).toBe('{"led":"on"}');
    expect(packet.properties?.contentType).toBe('application/json');
    expect(packet.properties?.responseTopic).toBe('lab/reply');
    expect(Buffer.from(packet.properties!.correlationData!).toString()).toBe('req-7');
    expect(packet.properties?.userProperties).toEqual({ site: ['lab', 'attic'], by: 'dashboard' });
    // The broker sends what is left of the expiry: at most what was set.
    expect(packet.properties?.messageExpiryInterval).toBeGreaterThan(0);
    expect(packet.properties?.messageExpiryInterval).toBeLessThanOrEqual(60);
    await sub.endAsync();
  }, 30_000);

  it('refuses bad properties with the reason, publishing nothing', async () => {
    const { base, mqttUrl } = await hubUp();
    const sub = await mqtt.connectAsync(mqttUrl, { reconnectPeriod: 0, protocolVersion: 5 });
    await sub.subscribeAsync('lab/#', { qos: 1 });
    const seen: string[] = [];
    sub.on('message', (t) => seen.push(t));
    const cases: [unknown, RegExp][] = [
      [{ responseTopic: 'lab/+' }, /invalid response topic 'lab\/\+'/],
      [{ messageExpiryInterval: -1 }, /messageExpiryInterval' must be a whole number/],
      [{ userProperties: [['a']] }, /\[name, value\] pair/],
      [{ userProperties: { a: 'b' } }, /list of at most 32/],
      [{ contentType: 7 }, /'properties.contentType' must be a string/],
      [{ payloadFormat: 1 }, /unknown property 'payloadFormat'/],
      ['text', /'properties' must be an object/],
    ];
    for (const [properties, reason] of cases) {
      const res = await post(`${base}/api/publish`, { topic: 'lab/bad', payload: 'x', properties });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('MS_HUB_BAD_REQUEST');
      expect(body.error.message).toMatch(reason);
    }
    // A good one after them arrives, and is the only one.
    await post(`${base}/api/publish`, { topic: 'lab/good', payload: 'x', qos: 1 });
    await new Promise<void>((resolve) => sub.on('message', () => resolve()));
    expect(seen).toEqual(['lab/good']);
    await sub.endAsync();
  }, 30_000);
});
