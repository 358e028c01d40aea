import { afterEach, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { cleanup, client, collector, eventually, node } from './helpers.js';

let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await cleanup();
});

describe('start_type', () => {
  it('lazy: connects once threshold messages are queued, and stops after idle_timeout', async () => {
    const remote = await node();
    proxy = await startTcpProxy(remote.port);
    const hub = await node([
      'connection cloud',
      `address 127.0.0.1:${proxy.port}`,
      'start_type lazy',
      'threshold 3',
      'idle_timeout 1',
      'topic a/# out 1',
    ]);
    const cloud = await collector(remote.url, 'a/#');
    const pub = await client(hub.url, { protocolVersion: 4 });
    await pub.publishAsync('a/1', '1', { qos: 1 });
    await pub.publishAsync('a/2', '2', { qos: 1 });
    expect(hub.m.bridges.status()[0]).toMatchObject({ state: 'idle', queued: 2 });
    expect(proxy.accepted).toBe(0);
    await pub.publishAsync('a/3', '3', { qos: 1 });
    await cloud.until(() => true, 3);
    expect(cloud.messages.map((m) => m.payload)).toEqual(['1', '2', '3']);
    await eventually(() => {
      const s = hub.m.bridges.status()[0]!;
      return s.state === 'idle' && !s.connected;
    }, 'the idle link to stop');
    expect(proxy.accepted).toBe(1);
  });

  it('once: does not reconnect after the link is lost', async () => {
    const remote = await node();
    proxy = await startTcpProxy(remote.port);
    const hub = await node([
      'connection cloud',
      `address 127.0.0.1:${proxy.port}`,
      'start_type once',
      'topic a/# out 1',
    ]);
    await eventually(() => hub.m.bridges.status()[0]?.connected, 'the bridge to connect');
    proxy.reset();
    await eventually(() => hub.m.bridges.status()[0]?.state === 'stopped', 'the bridge to stop');
    expect(proxy.accepted).toBe(1);
  });
});
