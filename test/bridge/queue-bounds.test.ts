import { afterEach, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { cleanup, client, cloudBridge, collector, eventually, node, stopNode } from './helpers.js';

let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await cleanup();
});

/** A hub bridging fleet/# out at QoS 1 through the proxy, with these queue bounds. */
function bridgeTo(port: number, bounds: string[]): string[] {
  return [
    // Two queued messages in memory, the rest only on disk: drops reach the journal's rows too.
    'persistence_queue_window 2',
    'sys_interval 1',
    ...cloudBridge(port, 'topic fleet/# out 1', ...bounds),
  ];
}

type Publish = [payload: string, qos: 0 | 1];

describe('bridge queue bounds', () => {
  it('drops the oldest QoS 0 message first, then the oldest QoS 1, to keep bridge_queue_max_messages', async () => {
    const remote = await node();
    proxy = await startTcpProxy(remote.port);
    proxy.down();
    const hub = await node(bridgeTo(proxy.port, ['bridge_queue_max_messages 6']), undefined, true);
    const pub = await client(hub.url, { protocolVersion: 4 });
    const send = async (payload: string, qos: 0 | 1) => pub.publishAsync('fleet/x', payload, { qos });
    // a = QoS 1, b = QoS 0; the queue holds 6.
    for (const [p, q] of [
      ['a1', 1],
      ['b1', 0],
      ['a2', 1],
      ['b2', 0],
      ['a3', 1],
      ['a4', 1],
      ['a5', 1], // full: b1 goes (oldest QoS 0)
      ['b3', 0], // b2 goes
      ['a6', 1], // b3 goes (it was on disk only)
      ['b4', 0], // only QoS 1 queued: the new QoS 0 message goes
      ['a7', 1], // a1 goes (oldest QoS 1)
    ] as Publish[])
      await send(p, q);
    const status = hub.m.bridges.status()[0]!;
    expect(status).toMatchObject({ queued: 6, dropped: 5, drops: { queueFull: 5, tooOld: 0 } });
    expect(hub.m.broker.stats.publishDropped).toBe(1); // the one refused at the door, as before

    const res = await fetch(`${hub.api}/bridges`);
    const body = (await res.json()) as { bridges: { dropped: number; drops: { queueFull: number } }[] };
    expect(body.bridges[0]).toMatchObject({ dropped: 5, drops: { queueFull: 5 } });
    const sys = await collector(hub.url, '$SYS/broker/bridges/cloud/dropped/#');
    await sys.until((m) => m.topic.endsWith('/dropped/queue_full') && m.payload === '5');

    const cloud = await collector(remote.url, 'fleet/#');
    proxy.up();
    await cloud.until(() => true, 6);
    expect(cloud.messages.map((m) => m.payload)).toEqual(['a2', 'a3', 'a4', 'a5', 'a6', 'a7']);
  });

  it('keeps bridge_queue_max_bytes (topic and payload), also for a queue restored after a restart', async () => {
    const remote = await node();
    proxy = await startTcpProxy(remote.port);
    proxy.down();
    const bounds = ['bridge_queue_max_bytes 100'];
    let hub = await node(bridgeTo(proxy.port, bounds));
    const pub = await client(hub.url, { protocolVersion: 4 });
    // fleet/x (7 bytes) + 18 bytes = 25 bytes each: four fit.
    const payload = (i: number) => `m${i}`.padEnd(18, '.');
    for (let i = 1; i <= 6; i++) await pub.publishAsync('fleet/x', payload(i), { qos: 1 });
    await pub.publishAsync('fleet/x', 'x'.repeat(200), { qos: 1 }); // bigger than the whole bound
    expect(hub.m.bridges.status()[0]).toMatchObject({
      queued: 4,
      queuedBytes: 100,
      drops: { queueFull: 3 },
    });
    await pub.endAsync();

    // Restarted with a smaller bound: the queue on disk is indexed and trimmed, oldest first.
    const dir = hub.dir;
    await stopNode(hub);
    hub = await node(bridgeTo(proxy.port, ['bridge_queue_max_bytes 60']), dir);
    expect(hub.m.bridges.status()[0]).toMatchObject({ queued: 2, queuedBytes: 50, drops: { queueFull: 2 } });
    const cloud = await collector(remote.url, 'fleet/#');
    proxy.up();
    await cloud.until(() => true, 2);
    expect(cloud.messages.map((m) => m.payload)).toEqual([payload(5), payload(6)]);
    await eventually(() => hub.m.bridges.status()[0]?.queuedBytes === 0, 'the queue to drain');
  });

  it('drops what waited longer than bridge_queue_max_age, and counts it', async () => {
    const remote = await node();
    proxy = await startTcpProxy(remote.port);
    proxy.down();
    const hub = await node(bridgeTo(proxy.port, ['bridge_queue_max_age 1']));
    const sys = await collector(hub.url, '$SYS/broker/bridges/cloud/#');
    const pub = await client(hub.url, { protocolVersion: 4 });
    for (let i = 0; i < 5; i++) await pub.publishAsync('fleet/x', `old${i}`, { qos: i % 2 ? 0 : 1 });
    await sys.until((m) => m.topic.endsWith('/dropped/too_old') && m.payload === '5');
    expect(hub.m.bridges.status()[0]).toMatchObject({ queued: 0, dropped: 5, drops: { tooOld: 5 } });

    const cloud = await collector(remote.url, 'fleet/#');
    proxy.up();
    await eventually(() => hub.m.bridges.status()[0]?.connected, 'the bridge to connect');
    await pub.publishAsync('fleet/x', 'fresh', { qos: 1 });
    await cloud.until(() => true);
    expect(cloud.messages.map((m) => m.payload)).toEqual(['fresh']);
  });
});
