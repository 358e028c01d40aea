import type { Packet } from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { type LaunchedBroker, launchMosquitto } from '../helpers/mosquitto.js';
import { cleanup, client, cloudBridge, collector, eventually, node, stopNode } from './helpers.js';
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

/** The step of the QoS 2 flow of `payload` where the link drops (the packet never arrives). */
const STEPS: [string, (t: Tapped, publishId: () => number | undefined) => boolean][] = [
  ['PUBLISH', (t) => t.direction === 'toRemote' && t.packet.cmd === 'publish' && t.packet.qos === 2],
  ['PUBREC', (t, id) => t.direction === 'toBridge' && t.packet.cmd === 'pubrec' && idOf(t.packet) === id()],
  ['PUBREL', (t, id) => t.direction === 'toRemote' && t.packet.cmd === 'pubrel' && idOf(t.packet) === id()],
  ['PUBCOMP', (t, id) => t.direction === 'toBridge' && t.packet.cmd === 'pubcomp' && idOf(t.packet) === id()],
];

function idOf(p: Packet): number | undefined {
  return (p as { messageId?: number }).messageId;
}

async function remoteOf(kind: 'mothership' | 'mosquitto'): Promise<{ port: number; url: string }> {
  if (kind === 'mothership') return node();
  mosquitto = await launchMosquitto({ config: ['allow_anonymous true', 'persistence false'] });
  return { port: mosquitto.port, url: `mqtt://127.0.0.1:${mosquitto.port}` };
}

describe.each(['mothership', 'mosquitto'] as const)('QoS 2 bound out to a %s remote', (kind) => {
  it.each(STEPS.map(([step]) => step))(
    'arrives exactly once when the link drops before the %s arrives',
    async (step) => {
      const remote = await remoteOf(kind);
      tap = await startMqttTap(remote.port);
      const hub = await node(cloudBridge(tap.port, 'topic q/# out 2'));
      await eventually(() => hub.m.bridges.status()[0]?.connected, 'the bridge to connect');
      const cloud = await collector(remote.url, 'q/#', 2);
      const pub = await client(hub.url);

      const published = () =>
        tap!.packets.find(
          (t) =>
            t.direction === 'toRemote' && t.packet.cmd === 'publish' && String(t.packet.payload) === step,
        );
      const when = STEPS.find(([s]) => s === step)![1];
      const cut = tap.cutAt((t) => when(t, () => published() && idOf(published()!.packet)));
      const links = tap.accepted;
      await pub.publishAsync('q/x', step, { qos: 2 });
      await cut;
      await eventually(() => tap!.accepted > links && hub.m.bridges.status()[0]?.connected, 'a reconnect');
      await eventually(() => hub.m.bridges.status()[0]?.queued === 0, 'the flow to finish');
      // A message behind it on the same topic arrives after any resend of it would have.
      await pub.publishAsync('q/x', 'after', { qos: 2 });
      await cloud.until((m) => m.payload === 'after');
      expect(cloud.messages.filter((m) => m.payload === step)).toHaveLength(1);
      // Resent as the spec wants, with the same packet id: the PUBLISH again (DUP) while no PUBREC
      // came back, only the PUBREL once one did.
      const id = idOf(published()!.packet);
      const toRemote = (cmd: string) =>
        tap!.packets.filter(
          (t) =>
            t.direction === 'toRemote' &&
            t.packet.cmd === cmd &&
            (cmd !== 'publish' || String((t.packet as { payload: Buffer }).payload) === step),
        );
      const afterRec = step === 'PUBREL' || step === 'PUBCOMP';
      expect(toRemote('publish').map((t) => [idOf(t.packet), (t.packet as { dup: boolean }).dup])).toEqual(
        afterRec
          ? [[id, false]]
          : [
              [id, false],
              [id, true],
            ],
      );
      if (afterRec) expect(toRemote('pubrel').filter((t) => idOf(t.packet) === id)).toHaveLength(2);
    },
  );
});

describe('QoS 2 bound out, the hub restarted mid-flow', () => {
  it('sends only PUBREL after the restart when the PUBREC had come: one arrival', async () => {
    const remote = await node();
    tap = await startMqttTap(remote.port);
    const lines = cloudBridge(tap.port, 'topic q/# out 2');
    const hub = await node(lines);
    await eventually(() => hub.m.bridges.status()[0]?.connected, 'the bridge to connect');
    const cloud = await collector(remote.url, 'q/#', 2);
    const cut = tap.cutAt((t) => t.direction === 'toBridge' && t.packet.cmd === 'pubcomp');
    await (await client(hub.url)).publishAsync('q/x', 'once', { qos: 2 });
    const { packet } = await cut;
    await tap.down(); // the hub cannot reconnect before it restarts
    await eventually(() => !hub.m.bridges.status()[0]?.connected, 'the link to drop');
    await stopNode(hub);
    const again = await node(lines, hub.dir);
    expect(again.m.bridges.status()[0]?.queued).toBe(1);
    await tap.up();
    await eventually(() => again.m.bridges.status()[0]?.queued === 0, 'the flow to finish');
    await (await client(again.url)).publishAsync('q/x', 'after', { qos: 2 });
    await cloud.until((m) => m.payload === 'after');
    expect(cloud.messages.filter((m) => m.payload === 'once')).toHaveLength(1);
    const toRemote = (cmd: string) =>
      tap!.packets.filter(
        (t) => t.direction === 'toRemote' && t.packet.cmd === cmd && idOf(t.packet) === idOf(packet),
      );
    expect(toRemote('pubrel').map((t) => t.link)).toEqual([1, 2]);
  });
});
