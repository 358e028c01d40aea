import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Broker,
  type ClientInfo,
  type DisconnectReason,
  type MessageBus,
  type RouteMessage,
} from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: Broker | undefined;
afterEach(async () => {
  await broker?.close();
});

function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error('condition not met in time'));
      setTimeout(tick, 10);
    };
    tick();
  });
}

describe('the embeddable Broker', () => {
  it('listens on TCP and WebSocket, reports clients and subscriptions, and emits events', async () => {
    broker = new Broker({ sysInterval: 0 });
    const tcp = await broker.listen({ port: 0, host: '127.0.0.1' });
    const ws = await broker.listen({ port: 0, host: '127.0.0.1', protocol: 'websockets' });
    const connects: ClientInfo[] = [];
    const disconnects: [string, DisconnectReason][] = [];
    const subs: string[] = [];
    broker.on('client-connect', (c) => connects.push(c));
    broker.on('client-disconnect', (c, reason) => disconnects.push([c.clientId, reason]));
    broker.on('subscribe', (_id, s) => subs.push(...s.map((x) => x.filter)));

    const overTcp = await mqtt.connectAsync(`mqtt://127.0.0.1:${tcp.port}`, {
      clientId: 'tcp-1',
      protocolVersion: 5,
    });
    const overWs = await mqtt.connectAsync(`ws://127.0.0.1:${ws.port}/mqtt`, { clientId: 'ws-1' });
    await overWs.subscribeAsync('blue/btn/0', { qos: 1 });
    expect(
      broker
        .clients()
        .map((c) => [c.clientId, c.listener])
        .sort(),
    ).toEqual([
      ['tcp-1', `mqtt:${tcp.port}`],
      ['ws-1', `ws:${ws.port}`],
    ]);
    expect(broker.subscriptions('ws-1')).toMatchObject([{ filter: 'blue/btn/0', qos: 1 }]);
    expect(subs).toEqual(['blue/btn/0']);

    const received = new Promise<string>((resolve) => overWs.on('message', (_t, p) => resolve(p.toString())));
    broker.publish({ topic: 'blue/btn/0', payload: '0', qos: 1 });
    expect(await received).toBe('0');

    await overTcp.endAsync();
    await until(() => disconnects.length === 1);
    expect(disconnects).toEqual([['tcp-1', 'normal']]);
    expect(connects.map((c) => c.protocolVersion).sort()).toEqual([4, 5]);
    await overWs.endAsync();
  });

  it('announces every accepted message with its publisher', async () => {
    broker = new Broker({ sysInterval: 0 });
    const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
    const seen: [string, string, string | undefined][] = [];
    broker.on('publish', (m, from) => seen.push([m.topic, m.payload.toString(), from]));
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'board-1' });
    await c.publishAsync('to_mothership', 'Test to mothership #0', { qos: 1 });
    broker.publish({ topic: 'from_mothership', payload: 'received' });
    expect(seen).toEqual([
      ['to_mothership', 'Test to mothership #0', 'board-1'],
      ['from_mothership', 'received', undefined],
    ]);
    await c.endAsync();
  });

  it('refuses invalid topics from the host program with a typed error', () => {
    broker = new Broker({ sysInterval: 0 });
    expect(() => broker!.publish({ topic: 'a/+', payload: 'x' })).toThrowError(
      expect.objectContaining({ code: 'MS_INVALID_TOPIC' }),
    );
  });

  it('reports a port in use as one clear line with a stable code', async () => {
    broker = new Broker({ sysInterval: 0 });
    const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
    const other = new Broker({ sysInterval: 0 });
    await expect(other.listen({ port, host: '127.0.0.1' })).rejects.toMatchObject({
      code: 'MS_PORT_IN_USE',
      message: expect.stringContaining(`port ${port}`),
    });
    await other.close();
  });

  it('publishes $SYS statistics as mosquitto names them, retained', async () => {
    broker = new Broker({ sysInterval: 1 });
    const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
    const values = new Map<string, string>();
    c.on('message', (t, p) => values.set(t, p.toString()));
    await c.subscribeAsync('$SYS/#');
    await c.publishAsync('x', 'y');
    await until(
      () => values.has('$SYS/broker/uptime') && values.get('$SYS/broker/clients/connected') === '1',
      4000,
    );
    expect(values.get('$SYS/broker/version')).toMatch(/^mothership /);
    expect(values.get('$SYS/broker/uptime')).toMatch(/^\d+ seconds$/);
    for (const t of [
      'messages/received',
      'messages/sent',
      'bytes/received',
      'retained messages/count',
      'clients/total',
    ])
      expect(values.has(`$SYS/broker/${t}`), t).toBe(true);
    await c.endAsync();
  });
});

describe('a failure inside the broker costs one connection, not the broker', () => {
  it('an authorizer that throws closes that client (v5: 0x83) and reports connection-error', async () => {
    broker = new Broker({
      sysInterval: 0,
      authorizer: {
        allows: (_c, _a, topic) => {
          if (topic === 'boom') throw new Error('plugin failed');
          return true;
        },
      },
    });
    const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
    const errors: string[] = [];
    broker.on('connection-error', (_meta, err) => errors.push(err.message));
    const bad = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    const reason = new Promise<number | undefined>((r) => bad.on('disconnect', (p) => r(p.reasonCode)));
    bad.publish('boom', 'x');
    expect(await reason).toBe(0x83);
    expect(errors).toEqual(['plugin failed']);
    const good = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
    await good.subscribeAsync('ok');
    const got = new Promise<string>((r) => good.on('message', (_t, p) => r(p.toString())));
    await good.publishAsync('ok', 'still here');
    expect(await got).toBe('still here');
    await good.endAsync();
    bad.end(true);
  });

  it('an authenticator that rejects closes the connection without a CONNACK', async () => {
    broker = new Broker({
      sysInterval: 0,
      authenticator: {
        authenticate: async () => {
          throw new Error('auth backend down');
        },
      },
    });
    const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
    const errors: string[] = [];
    broker.on('connection-error', (_meta, err) => errors.push(err.message));
    const client = await RawClient.open(port);
    client.send({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: 'x',
      keepalive: 60,
    });
    await client.waitClosed();
    expect(client.packets).toEqual([]);
    expect(errors).toEqual(['auth backend down']);
  });
});

describe('the message bus seam', () => {
  it('every accepted message goes through the injected bus, and what the bus routes reaches local subscribers', async () => {
    const seen: string[] = [];
    let route: RouteMessage | undefined;
    const bus: MessageBus = {
      attach(r) {
        route = r;
      },
      publish(message, publisherId, tracker) {
        seen.push(`${message.topic} from ${publisherId ?? 'host'}`);
        route!(message, publisherId, tracker);
      },
    };
    broker = new Broker({ sysInterval: 0, messageBus: bus });
    const { port } = await broker.listen({ port: 0, host: '127.0.0.1' });
    const { client: sub } = await RawClient.connected(port, { clientId: 'bus-sub' });
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'bus/#', qos: 0 }] });
    await sub.next('suback');
    const { client: pub } = await RawClient.connected(port, { clientId: 'bus-pub' });
    pub.send({ cmd: 'publish', topic: 'bus/a', payload: Buffer.from('1'), qos: 0 });
    expect(((await sub.next('publish')) as { topic: string }).topic).toBe('bus/a');
    // A message from another node arrives through the bus alone: routed here, not accepted twice.
    route!(
      { topic: 'bus/remote', payload: Buffer.from('2'), qos: 0, retain: false, receivedAt: Date.now() },
      undefined,
    );
    expect(((await sub.next('publish')) as { topic: string }).topic).toBe('bus/remote');
    expect(seen).toEqual(['bus/a from bus-pub']);
    sub.destroy();
    pub.destroy();
  });
});
