import { afterEach, describe, expect, it } from 'vitest';
import { PRIMARY_RETRY_MS } from '../../src/bridge/remote-addresses.js';
import { type LaunchedBroker, launchMosquitto } from '../helpers/mosquitto.js';
import { cleanup, client, collector, eventually, node } from './helpers.js';
import { type MqttTap, startMqttTap } from './mqtt-tap.js';

const taps: MqttTap[] = [];
let local: LaunchedBroker | undefined;
afterEach(async () => {
  await local?.close();
  local = undefined;
  for (const t of taps.splice(0)) await t.close();
  await cleanup();
});

/** How many times the bridge got a CONNACK through this tap. */
function links(tap: MqttTap): number {
  return tap.packets.filter((t) => t.direction === 'toBridge' && t.packet.cmd === 'connack').length;
}

/** Two remotes, each behind a tap; the bridge's local broker (Mothership, or mosquitto for comparison). */
async function setup(kind: 'mothership' | 'mosquitto', ...lines: string[]) {
  const [a, b] = [await node(), await node()];
  const [tapA, tapB] = [await startMqttTap(a.port), await startMqttTap(b.port)];
  taps.push(tapA, tapB);
  await tapA.down(); // the main address is down from the start
  const block = [
    'connection cloud',
    `address 127.0.0.1:${tapA.port} 127.0.0.1:${tapB.port}`,
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
  const pub = await client(url);
  return { a, b, tapA, tapB, pub };
}

describe.each(['mothership', 'mosquitto'] as const)(
  'address with two hosts, %s as the bridging broker',
  (kind) => {
    it('round_robin false: uses the second while the main one is down, then goes back to the main one', async () => {
      const { a, b, tapA, tapB, pub } = await setup(kind);
      const atB = await collector(b.url, 'fleet/#');
      await pub.publishAsync('fleet/x', 'while-main-down', { qos: 1 });
      await atB.until((m) => m.payload === 'while-main-down');
      expect(links(tapA)).toBe(0);

      await tapA.up();
      await eventually(() => links(tapA) > 0, 'the bridge to go back to the main address');
      const atA = await collector(a.url, 'fleet/#');
      await pub.publishAsync('fleet/x', 'main-back', { qos: 1 });
      await atA.until((m) => m.payload === 'main-back');
      expect(atB.messages.map((m) => m.payload)).toEqual(['while-main-down']);
      expect(links(tapB)).toBe(1);
    });

    it('round_robin true: stays on the second after the main one returns, moves on when it fails', async () => {
      const { a, b, tapA, tapB, pub } = await setup(kind, 'round_robin true');
      const atB = await collector(b.url, 'fleet/#');
      await pub.publishAsync('fleet/x', 'one', { qos: 1 });
      await atB.until((m) => m.payload === 'one');

      await tapA.up();
      // "Stays" has no event to wait for: give it three of the main address's retry periods.
      await new Promise((r) => setTimeout(r, 3 * PRIMARY_RETRY_MS));
      expect(tapA.accepted).toBe(0);
      await pub.publishAsync('fleet/x', 'two', { qos: 1 });
      await atB.until((m) => m.payload === 'two');

      await tapB.down();
      tapB.reset();
      await eventually(() => links(tapA) > 0, 'the bridge to move on to the next address');
      const atA = await collector(a.url, 'fleet/#');
      await pub.publishAsync('fleet/x', 'three', { qos: 1 });
      await atA.until((m) => m.payload === 'three');
      expect(links(tapB)).toBe(1);
    });
  },
);
