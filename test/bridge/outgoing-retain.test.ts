import { afterEach, describe, expect, it } from 'vitest';
import { type LaunchedBroker, launchMosquitto } from '../helpers/mosquitto.js';
import { cleanup, client, collector, eventually, node } from './helpers.js';
import { type MqttTap, startMqttTap } from './mqtt-tap.js';

let tap: MqttTap | undefined;
let local: LaunchedBroker | undefined;
afterEach(async () => {
  await local?.close();
  local = undefined;
  await tap?.close();
  tap = undefined;
  await cleanup();
});

describe.each(['mothership', 'mosquitto'] as const)('bridge_outgoing_retain, %s bridging', (kind) => {
  it.each([
    ['true (the default)', [], true],
    ['false', ['bridge_outgoing_retain false'], false],
  ] as const)('%s', async (_what, lines, kept) => {
    const remote = await node();
    tap = await startMqttTap(remote.port);
    const block = [
      'connection cloud',
      `address 127.0.0.1:${tap.port}`,
      'remote_clientid hub-a',
      'restart_timeout 1 2',
      'topic fleet/# out 1',
      ...lines,
    ];
    let url: string;
    if (kind === 'mothership') url = (await node(block)).url;
    else {
      local = await launchMosquitto({ config: ['allow_anonymous true', 'persistence false', ...block] });
      url = `mqtt://127.0.0.1:${local.port}`;
    }
    await eventually(() => tap!.packets.some((t) => t.packet.cmd === 'connack'), 'the bridge to connect');
    const cloud = await collector(remote.url, 'fleet/#');
    const pub = await client(url);
    await pub.publishAsync('fleet/r', 'kept', { qos: 1, retain: true });
    await pub.publishAsync('fleet/r', 'live', { qos: 1 });
    await cloud.until((m) => m.payload === 'live');
    const sent = tap.packets.filter((t) => t.direction === 'toRemote' && t.topic === 'fleet/r');
    expect(
      sent.map((t) => [
        String((t.packet as { payload: Buffer }).payload),
        (t.packet as { retain: boolean }).retain,
      ]),
    ).toEqual([
      ['kept', kept],
      ['live', false],
    ]);
    // Whether the remote keeps it: a subscriber that comes later, then a message behind its retained ones.
    const late = await collector(remote.url, 'fleet/#');
    await (await client(remote.url)).publishAsync('fleet/marker', 'm', { qos: 1 });
    await late.until((m) => m.payload === 'm');
    expect(late.messages.filter((m) => m.retain).map((m) => m.payload)).toEqual(kept ? ['kept'] : []);
  });
});
