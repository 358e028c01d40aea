import { afterEach, describe, expect, it } from 'vitest';
import { type LaunchedBroker, launchMosquitto } from '../helpers/mosquitto.js';
import { cleanup, client, collector, eventually, node } from './helpers.js';
import { type MqttTap, startMqttTap, type Tapped } from './mqtt-tap.js';

let tap: MqttTap | undefined;
let mosquitto: LaunchedBroker | undefined;
afterEach(async () => {
  await tap?.close();
  tap = undefined;
  await mosquitto?.close();
  mosquitto = undefined;
  await cleanup();
});

async function remoteOf(kind: 'mothership' | 'mosquitto'): Promise<{ port: number; url: string }> {
  if (kind === 'mothership') return node();
  mosquitto = await launchMosquitto({ config: ['allow_anonymous true', 'persistence false'] });
  return { port: mosquitto.port, url: `mqtt://127.0.0.1:${mosquitto.port}` };
}

const TOPICS = Array.from({ length: 12 }, (_, i) => `fleet/t${i}`);

describe.each(['mothership', 'mosquitto'] as const)('topic aliases towards a %s remote', (kind) => {
  it("uses the remote's Topic Alias Maximum, each link setting its aliases anew", async () => {
    const remote = await remoteOf(kind);
    tap = await startMqttTap(remote.port);
    const hub = await node([
      'connection cloud',
      `address 127.0.0.1:${tap.port}`,
      'remote_clientid hub-a',
      'restart_timeout 1 2',
      'topic fleet/# out 1',
    ]);
    await eventually(() => hub.m.bridges.status()[0]?.connected, 'the bridge to connect');
    const connack = tap.packets.find((t) => t.packet.cmd === 'connack')!.packet as {
      properties?: { topicAliasMaximum?: number };
    };
    const maximum = connack.properties?.topicAliasMaximum ?? 0;
    expect(maximum).toBeGreaterThan(0);
    const cloud = await collector(remote.url, 'fleet/#');
    const pub = await client(hub.url);
    const round = async (n: number) => {
      for (const topic of TOPICS)
        for (let i = 0; i < 2; i++) await pub.publishAsync(topic, `${n}`, { qos: 1 });
      await cloud.until((m) => m.payload === `${n}`, TOPICS.length * 2);
    };
    await round(1);
    tap.reset(); // a new link: the remote forgot the aliases
    await eventually(() => tap!.accepted > 1 && hub.m.bridges.status()[0]?.connected, 'a reconnect');
    await round(2);

    const got = (n: number) => cloud.messages.filter((m) => m.payload === `${n}`).map((m) => m.topic);
    for (const n of [1, 2]) expect(got(n)).toEqual(TOPICS.flatMap((t) => [t, t]));
    const sent = tap.packets.filter((t) => t.direction === 'toRemote' && t.topic?.startsWith('fleet/'));
    const alias = (t: Tapped) =>
      (t.packet as { properties?: { topicAlias?: number } }).properties?.topicAlias;
    // Aliases within the remote's maximum; some PUBLISHes carry only the alias (an empty topic).
    expect(sent.every((t) => (alias(t) ?? 0) <= maximum)).toBe(true);
    expect(sent.some((t) => (t.packet as { topic: string }).topic === '')).toBe(true);
    // On each link an alias is first sent with its topic: none is used before it was set there.
    for (const link of new Set(sent.map((t) => t.link))) {
      const set = new Set<number>();
      for (const t of sent.filter((s) => s.link === link)) {
        const a = alias(t);
        if (a === undefined) continue;
        if ((t.packet as { topic: string }).topic !== '') set.add(a);
        else expect(set.has(a)).toBe(true);
      }
    }
    expect(tap.packets.filter((t) => t.packet.cmd === 'disconnect')).toEqual([]);
  });
});
