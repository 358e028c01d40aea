import { afterEach, describe, expect, it } from 'vitest';
import { type LaunchedBroker, launchMosquitto } from '../helpers/mosquitto.js';
import { cleanup, client, collector, eventually, node } from './helpers.js';
import { type MqttTap, startMqttTap } from './mqtt-tap.js';

let tap: MqttTap | undefined;
const brokers: LaunchedBroker[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.close();
  await tap?.close();
  tap = undefined;
  await cleanup();
});

async function mosquittoWith(...config: string[]): Promise<LaunchedBroker> {
  const b = await launchMosquitto({ config: ['allow_anonymous true', 'persistence false', ...config] });
  brokers.push(b);
  return b;
}

const BIG = 'x'.repeat(1000);

/** small-1, a message too big for the remote, small-2: at each QoS. */
async function publishAround(url: string): Promise<void> {
  const pub = await client(url);
  for (const qos of [0, 1, 2] as const) {
    await pub.publishAsync('fleet/x', `small-${qos}-1`, { qos });
    await pub.publishAsync('fleet/x', BIG, { qos });
    await pub.publishAsync('fleet/x', `small-${qos}-2`, { qos });
  }
}

const SMALL = [0, 1, 2].flatMap((q) => [`small-${q}-1`, `small-${q}-2`]);

describe('a message too big for the remote', () => {
  it.each([
    ['bridge_max_packet_size 500', '', ['bridge_max_packet_size 500']],
    ["the remote's Maximum Packet Size (mosquitto max_packet_size 500)", 'max_packet_size 500', []],
  ])(
    '%s: not sent, counted as dropped, and the queue behind it goes on',
    async (_what, remoteLine, lines) => {
      const remote = await mosquittoWith(remoteLine);
      tap = await startMqttTap(remote.port);
      const hub = await node([
        'connection cloud',
        `address 127.0.0.1:${tap.port}`,
        'remote_clientid hub-a',
        'restart_timeout 1 2',
        'topic fleet/# out 2',
        ...lines,
      ]);
      await eventually(() => hub.m.bridges.status()[0]?.connected, 'the bridge to connect');
      const cloud = await collector(`mqtt://127.0.0.1:${remote.port}`, 'fleet/#', 2);
      await publishAround(hub.url);
      await cloud.until((m) => m.payload === 'small-2-2');
      expect(cloud.messages.map((m) => m.payload)).toEqual(SMALL);
      const status = await eventually(() => {
        const s = hub.m.bridges.status()[0]!;
        return s.queued === 0 && s;
      }, 'the queue to drain');
      expect(status.drops.tooLarge).toBe(3);
      expect(status.dropped).toBe(3);
      expect(status.connected).toBe(true);
      expect(
        tap.packets.filter((t) => t.packet.cmd === 'publish' && String(t.packet.payload) === BIG),
      ).toEqual([]);
      expect(
        tap.packets.filter((t) => t.packet.cmd === 'disconnect' || t.packet.cmd === 'connect'),
      ).toHaveLength(1);
    },
  );

  it('mosquitto bridging with bridge_max_packet_size, for comparison, forwards the same messages', async () => {
    const remote = await mosquittoWith();
    const local = await mosquittoWith(
      'connection cloud',
      `address 127.0.0.1:${remote.port}`,
      'remote_clientid hub-a',
      'topic fleet/# out 2',
      'bridge_max_packet_size 500',
    );
    const state = await collector(`mqtt://127.0.0.1:${remote.port}`, '$SYS/broker/connection/#');
    await state.until((m) => m.payload === '1');
    const cloud = await collector(`mqtt://127.0.0.1:${remote.port}`, 'fleet/#', 2);
    await publishAround(`mqtt://127.0.0.1:${local.port}`);
    await cloud.until((m) => m.payload === 'small-2-2');
    expect(cloud.messages.map((m) => m.payload)).toEqual(SMALL);
  });
});
