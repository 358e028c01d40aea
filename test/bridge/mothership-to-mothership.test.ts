import { afterEach, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { cleanup, client, cloudBridge, collector, eventually, node } from './helpers.js';

let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await cleanup();
});

function bridgeTo(port: number, ...topics: string[]): string[] {
  return cloudBridge(port, 'keepalive_interval 5', ...topics.map((t) => `topic ${t}`));
}

describe('a bridge between two Motherships', () => {
  it('carries messages both ways with the prefixes of its topic lines', async () => {
    const remote = await node();
    proxy = await startTcpProxy(remote.port);
    const hub = await node(bridgeTo(proxy.port, 'sensors/# out 1 "" home/', 'cmd/# in 1 "" home/'));
    await eventually(() => hub.m.bridges.status()[0]?.connected, 'the bridge to connect');

    const cloudSide = await collector(remote.url, 'home/#');
    const hubSide = await collector(hub.url, 'cmd/#');
    const hubPublisher = await client(hub.url);
    const cloudPublisher = await client(remote.url);
    await hubPublisher.publishAsync('sensors/t1', '21.5', { qos: 1 });
    await cloudPublisher.publishAsync('home/cmd/led', 'on', { qos: 1 });

    const [out] = await cloudSide.until((m) => m.topic === 'home/sensors/t1');
    expect(out).toMatchObject({ payload: '21.5', qos: 1 });
    const [inbound] = await hubSide.until((m) => m.topic === 'cmd/led');
    expect(inbound).toMatchObject({ payload: 'on', qos: 1 });
    // Only what the topic lines carry: cmd is `in` only, so it does not go back out.
    expect(cloudSide.messages.map((m) => m.topic)).toEqual(['home/sensors/t1', 'home/cmd/led']);
  });

  it('publishes its state, retained, 1 when the link is up and 0 when it is lost', async () => {
    const remote = await node();
    proxy = await startTcpProxy(remote.port);
    const hub = await node(bridgeTo(proxy.port, 'sensors/# out 1'));
    const stateTopic = '$SYS/broker/connection/hub-a/state';
    const local = await collector(hub.url, stateTopic);
    await local.until((m) => m.payload === '1');
    const remoteState = await collector(remote.url, stateTopic);
    await remoteState.until((m) => m.payload === '1' && m.retain);

    // Figures, not deadlines (a loaded machine stretches them): the issue asks for the state topic to
    // flip within 1 s of each transition and a reconnect within the backoff cap (restart_timeout 1 2).
    const at = async (pred: (m: { payload: string; retain: boolean }) => boolean, n: number) => {
      await local.until(pred, n);
      return Date.now();
    };
    proxy.down();
    const lostAt = Date.now();
    proxy.reset();
    const zeroAt = await at((m) => m.payload === '0' && !m.retain, 1);
    // The remote hears it through the bridge's will.
    await remoteState.until((m) => m.payload === '0');
    const returnedAt = Date.now();
    proxy.up();
    const connectedAt = await eventually(
      () => hub.m.bridges.status()[0]?.connected && Date.now(),
      'the link back',
    );
    const oneAt = await at((m) => m.payload === '1', 2);
    console.log(
      `[figure] bridge state: 0 ${zeroAt - lostAt} ms after the link was reset; back ${connectedAt - returnedAt} ms after the remote returned (restart_timeout 1 2); 1 ${Math.max(0, oneAt - connectedAt)} ms after the link was up`,
    );
    const late = await collector(hub.url, stateTopic);
    const [retained] = await late.until(() => true);
    expect(retained).toMatchObject({ payload: '1', retain: true });
  });
});
