import { afterEach, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import {
  type Collector,
  cleanup,
  client,
  cloudBridge,
  collector,
  eventually,
  node,
  stopNode,
} from './helpers.js';

let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await cleanup();
});

const TOPICS = 10;
// 5,000 by default, scaled down for a loaded 2-core machine; BRIDGE_OUTAGE_PER_TOPIC=2000 runs the
// issue's 20,000 (opt-in, as long runs are).
const PER_TOPIC = Number(process.env.BRIDGE_OUTAGE_PER_TOPIC ?? 500);

function bridgeTo(port: number): string[] {
  return cloudBridge(port, 'keepalive_interval 5', 'topic fleet/# out 1 "" home/');
}

/** Publishes `perTopic` QoS 1 messages on each of `topics` topics and resolves once all are acknowledged. */
async function publishAll(url: string, topics: number, perTopic: number): Promise<void> {
  const pub = await client(url, { protocolVersion: 4 });
  const acks: Promise<unknown>[] = [];
  for (let i = 0; i < perTopic; i++)
    for (let t = 0; t < topics; t++) acks.push(pub.publishAsync(`fleet/t${t}`, String(i), { qos: 1 }));
  await Promise.all(acks);
}

/** Every topic got 0..perTopic-1, in order, nothing twice. */
function expectInOrder(c: Collector, topics: number, perTopic: number): void {
  for (let t = 0; t < topics; t++) {
    const got = c.messages.filter((m) => m.topic === `home/fleet/t${t}`).map((m) => Number(m.payload));
    expect(got, `home/fleet/t${t}`).toEqual(Array.from({ length: perTopic }, (_, i) => i));
  }
}

describe('store-and-forward', () => {
  it('delivers every QoS 1 message published while the link is down, in order per topic, once it returns', {
    timeout: Math.max(60_000, TOPICS * PER_TOPIC * 15),
  }, async () => {
    const remote = await node();
    proxy = await startTcpProxy(remote.port);
    const hub = await node(bridgeTo(proxy.port));
    await eventually(() => hub.m.bridges.status()[0]?.connected, 'the bridge to connect');
    const cloud = await collector(remote.url, 'home/#');

    proxy.down();
    proxy.reset();
    await eventually(() => !hub.m.bridges.status()[0]?.connected, 'the bridge to notice the outage');
    await publishAll(hub.url, TOPICS, PER_TOPIC);
    const status = hub.m.bridges.status()[0]!;
    expect(status.queued).toBe(TOPICS * PER_TOPIC);
    expect(status.oldestQueuedAt).toBeLessThanOrEqual(Date.now());
    expect(cloud.messages).toEqual([]);

    const since = Date.now();
    proxy.up();
    await cloud.until(() => true, TOPICS * PER_TOPIC);
    console.log(`drained ${TOPICS * PER_TOPIC} messages in ${Date.now() - since} ms after the link returned`);
    expectInOrder(cloud, TOPICS, PER_TOPIC);
    await eventually(() => hub.m.bridges.status()[0]?.queued === 0, 'the queue to drain');
  });

  it('queues what is published before the first connect', async () => {
    const remote = await node();
    proxy = await startTcpProxy(remote.port);
    proxy.down(); // the remote is unreachable from the start
    const hub = await node(bridgeTo(proxy.port));
    await publishAll(hub.url, 2, 50);
    expect(hub.m.bridges.status()[0]).toMatchObject({ connected: false, queued: 100 });
    const cloud = await collector(remote.url, 'home/#');
    proxy.up();
    await cloud.until(() => true, 100);
    expectInOrder(cloud, 2, 50);
  });

  it('keeps the queue on disk across a restart of the hub', async () => {
    const remote = await node();
    proxy = await startTcpProxy(remote.port);
    proxy.down();
    const hub = await node(bridgeTo(proxy.port));
    await publishAll(hub.url, 2, 50);
    await stopNode(hub);
    const again = await node(bridgeTo(proxy.port), hub.dir);
    expect(again.m.bridges.status()[0]).toMatchObject({ connected: false, queued: 100 });
    const cloud = await collector(remote.url, 'home/#');
    proxy.up();
    await cloud.until(() => true, 100);
    expectInOrder(cloud, 2, 50);
  });
});
