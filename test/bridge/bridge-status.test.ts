import { afterEach, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { cleanup, client, collector, eventually, node } from './helpers.js';

let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await cleanup();
});

describe('per-bridge status on $SYS', () => {
  it('shows the queue, its oldest message, the link and its last error, as they change', async () => {
    const remote = await node();
    proxy = await startTcpProxy(remote.port);
    proxy.down();
    const hub = await node([
      'sys_interval 1',
      'connection cloud',
      `address 127.0.0.1:${proxy.port}`,
      'restart_timeout 1 2',
      'topic fleet/# out 1',
    ]);
    const sys = await collector(hub.url, '$SYS/broker/bridges/cloud/#');
    const value = (name: string) =>
      sys
        .until((m) => m.topic === `$SYS/broker/bridges/cloud/${name}`)
        .then((all) => all[all.length - 1]!.payload);
    const pub = await client(hub.url, { protocolVersion: 4 });
    for (let i = 0; i < 3; i++) await pub.publishAsync('fleet/x', String(i), { qos: 1 });
    await sys.until((m) => m.topic.endsWith('/queued') && m.payload === '3');
    expect(await value('connected')).toBe('0');
    expect(await value('last_error')).not.toBe('');

    proxy.up();
    await sys.until((m) => m.topic.endsWith('/connected') && m.payload === '1');
    await sys.until((m) => m.topic.endsWith('/queued') && m.payload === '0');
    expect(await value('remote_address')).toBe(`127.0.0.1:${proxy.port}`);
    // `until` also sees the `queued 0` from before the outage: wait for the drain itself.
    await eventually(() => hub.m.bridges.status()[0]!.queued === 0, 'the queue to drain');
    expect(hub.m.bridges.status()[0]).toMatchObject({
      connected: true,
      queued: 0,
      oldestQueuedAt: undefined,
    });
  });

  it('answers GET /api/bridges on the hub, for the dashboard', async () => {
    const remote = await node();
    const hub = await node(
      [
        'connection cloud',
        `address 127.0.0.1:${remote.port}`,
        'remote_clientid hub-a',
        'topic fleet/# out 1',
      ],
      undefined,
      true,
    );
    await eventually(() => hub.m.bridges.status()[0]?.connected, 'the bridge to connect');
    const res = await fetch(`${hub.api}/bridges`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { bridges: unknown[] };
    expect(body.bridges).toEqual([
      expect.objectContaining({
        name: 'cloud',
        connected: true,
        remoteAddress: `127.0.0.1:${remote.port}`,
        queued: 0,
        dropped: 0,
      }),
    ]);
  });
});
