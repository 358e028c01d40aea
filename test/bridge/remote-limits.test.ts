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

/** The bridging broker, Mothership or (for comparison) mosquitto, with this connection block. */
async function bridging(kind: 'mothership' | 'mosquitto', block: string[]): Promise<string> {
  if (kind === 'mothership') return (await node(block)).url;
  return `mqtt://127.0.0.1:${(await mosquittoWith(...block)).port}`;
}

function packetsOf(t: MqttTap, direction: 'toRemote' | 'toBridge', cmd: string) {
  return t.packets.filter((p) => p.direction === direction && p.packet.cmd === cmd).map((p) => p.packet);
}

/** The remote's CONNACKs to the bridge: refused ones (reason codes) first, then one success, and no DISCONNECT. */
function expectOneLink(t: MqttTap, refusedFirst: number[]): void {
  const connacks = packetsOf(t, 'toBridge', 'connack').map(
    (p) => (p as { reasonCode?: number }).reasonCode ?? 0,
  );
  expect(connacks).toEqual([...refusedFirst, 0]);
  expect(packetsOf(t, 'toBridge', 'disconnect')).toEqual([]);
}

/**
 * mosquitto, for comparison, bridges with the same block over MQTT 5 and without the state
 * notification: its will is always a retained QoS 1 message, which such a remote refuses for ever.
 */
const KINDS = [
  ['mothership', []],
  ['mosquitto', ['bridge_protocol_version mqttv50', 'notifications false']],
] as const;

describe.each(KINDS)("the remote's CONNACK limits, %s bridging", (kind, extra) => {
  async function setup(remoteConfig: string) {
    const remote = await mosquittoWith(remoteConfig);
    tap = await startMqttTap(remote.port);
    const url = await bridging(kind, [
      'connection cloud',
      `address 127.0.0.1:${tap.port}`,
      'remote_clientid hub-a',
      'restart_timeout 1 2',
      'topic fleet/# both 2',
      ...extra,
    ]);
    // mosquitto drops QoS 0 messages while its bridge is not connected: publish once it is.
    await eventually(() => packetsOf(tap!, 'toBridge', 'suback').length > 0, 'the bridge to subscribe');
    return { remoteUrl: `mqtt://127.0.0.1:${remote.port}`, pub: await client(url) };
  }

  function sentToRemote(t: MqttTap) {
    return t.packets
      .filter((p) => p.direction === 'toRemote' && p.topic === 'fleet/x')
      .map((p) => p.packet as { qos: number; retain: boolean });
  }

  it('a remote granting QoS 0 only (max_qos 0): messages go down to QoS 0, never a disconnect', async () => {
    const { remoteUrl, pub } = await setup('max_qos 0');
    const cloud = await collector(remoteUrl, 'fleet/#', 0);
    for (const qos of [0, 1, 2] as const) await pub.publishAsync('fleet/x', `q${qos}`, { qos });
    await cloud.until((m) => m.topic === 'fleet/x', 3);
    expect(cloud.messages.map((m) => m.payload)).toEqual(['q0', 'q1', 'q2']);
    expect(sentToRemote(tap!).map((p) => p.qos)).toEqual([0, 0, 0]);
    // Its first CONNECT's will (the state notification, QoS 1) is refused (0x9B); then QoS 0.
    expectOneLink(tap!, kind === 'mothership' ? [0x9b] : []);
  });

  it('a remote without retained messages (retain_available false): sent without the flag, never a disconnect', async () => {
    const { remoteUrl, pub } = await setup('retain_available false');
    const cloud = await collector(remoteUrl, 'fleet/#', 1);
    await pub.publishAsync('fleet/x', 'kept', { qos: 1, retain: true });
    await pub.publishAsync('fleet/x', 'live', { qos: 1 });
    await cloud.until((m) => m.topic === 'fleet/x', 2);
    expect(cloud.messages.map((m) => [m.payload, m.retain])).toEqual([
      ['kept', false],
      ['live', false],
    ]);
    expect(sentToRemote(tap!).map((p) => p.retain)).toEqual([false, false]);
    // The retained will is refused (0x9A), then sent without the flag.
    expectOneLink(tap!, kind === 'mothership' ? [0x9a] : []);
  });
});
