import { afterEach, describe, expect, it } from 'vitest';
import { type LaunchedBroker, launchMosquitto } from '../helpers/mosquitto.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { cleanup, client, collector, eventually, node } from './helpers.js';

let proxy: TcpProxy | undefined;
let mosquitto: LaunchedBroker | undefined;
afterEach(async () => {
  await mosquitto?.close();
  mosquitto = undefined;
  await proxy?.close();
  proxy = undefined;
  await cleanup();
});

describe('link faults', () => {
  it('notices a half-open link (no FIN, no RST) by its keepalive, then resends what the void swallowed', async () => {
    const remote = await node();
    proxy = await startTcpProxy(remote.port);
    const hub = await node([
      'connection cloud',
      `address 127.0.0.1:${proxy.port}`,
      'remote_clientid hub-a',
      'keepalive_interval 5',
      'restart_timeout 1 2',
      'topic fleet/# out 1',
    ]);
    await eventually(() => hub.m.bridges.status()[0]?.connected, 'the bridge to connect');
    const cloud = await collector(remote.url, 'fleet/#');

    proxy.blackhole();
    const since = Date.now();
    const pub = await client(hub.url, { protocolVersion: 4 });
    for (let i = 0; i < 20; i++) await pub.publishAsync('fleet/x', String(i), { qos: 1 });
    const status = await eventually(() => {
      const s = hub.m.bridges.status()[0]!;
      return !s.connected && s;
    }, 'the half-open link to be noticed');
    const noticedAfterMs = Date.now() - since;
    // The keepalive found it (the socket itself never closed), within 1.5 x keepalive of the last packet.
    expect(status.lastError).toMatch(/keepalive/i);
    console.log(`half-open link noticed after ${noticedAfterMs} ms (keepalive 5 s)`);

    proxy.up();
    await cloud.until((m) => m.topic === 'fleet/x', 20);
    const got = cloud.messages.map((m) => Number(m.payload));
    expect([...new Set(got)]).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('stops at once with messages in flight on a link gone silent, and resends them after a restart', async () => {
    const remote = await node();
    proxy = await startTcpProxy(remote.port);
    const block = [
      'connection cloud',
      `address 127.0.0.1:${proxy.port}`,
      'remote_clientid hub-a',
      'keepalive_interval 60',
      'restart_timeout 1 2',
      'topic fleet/# out 1',
    ];
    const hub = await node(block);
    await eventually(() => hub.m.bridges.status()[0]?.connected, 'the bridge to connect');
    const cloud = await collector(remote.url, 'fleet/#');
    proxy.blackhole(); // the PUBLISHes go out, no PUBACK ever comes back: they stay in flight
    const pub = await client(hub.url, { protocolVersion: 4 });
    for (let i = 0; i < 5; i++) await pub.publishAsync('fleet/x', String(i), { qos: 1 });
    await pub.endAsync();
    // MQTT.js's graceful end would wait for those PUBACKs for ever: the stop must not.
    await hub.m.stop();
    proxy.up();
    const again = await node(block, hub.dir);
    await eventually(() => again.m.bridges.status()[0]?.connected, 'the restarted bridge to connect');
    await cloud.until((m) => m.topic === 'fleet/x', 5);
    expect([...new Set(cloud.messages.map((m) => Number(m.payload)))]).toEqual([0, 1, 2, 3, 4]);
  });

  it('names its state topic and client ids as mosquitto does for the same connection block', async () => {
    const remote = await node();
    const block = [
      'connection cloud',
      `address 127.0.0.1:${remote.port}`,
      'restart_timeout 1 2',
      'topic x out',
    ];
    mosquitto = await launchMosquitto({ config: ['allow_anonymous true', 'persistence false', ...block] });
    const theirs = await collector(`mqtt://127.0.0.1:${mosquitto.port}`, '$SYS/broker/connection/#');
    await theirs.until((m) => m.payload === '1');
    // A subscriber that comes after the link is up sees whether the state is retained (one that was
    // already there gets it live, without the flag, whoever publishes it).
    const theirsLate = await collector(`mqtt://127.0.0.1:${mosquitto.port}`, '$SYS/broker/connection/#');
    const [mosquittoState] = await theirsLate.until((m) => m.payload === '1');
    await mosquitto.close(); // both would take the same client id on the remote
    mosquitto = undefined;
    const hub = await node(block);
    const ours = await collector(hub.url, '$SYS/broker/connection/#');
    await ours.until((m) => m.payload === '1');
    const oursLate = await collector(hub.url, '$SYS/broker/connection/#');
    const [ourState] = await oursLate.until((m) => m.payload === '1');
    expect(ourState!.topic).toBe(mosquittoState!.topic);
    expect(ourState!.retain).toBe(mosquittoState!.retain);
    expect(ourState!.retain).toBe(true);
  });
});
