import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, eventually, hubUp, post } from './helpers.js';

afterAll(cleanup);

describe('the hub API with no configuration (anonymous from this machine, as MQTT)', () => {
  it('knows our boards from their retained status and info, and others from their sessions', async () => {
    const { base, mqttUrl } = await hubUp();
    const board = await mqtt.connectAsync(mqttUrl, {
      clientId: 'dht1',
      clean: false,
      reconnectPeriod: 0,
      will: { topic: 'dht1/status', payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    await board.publishAsync('dht1/status', 'online', { qos: 1, retain: true });
    await board.publishAsync('dht1/info', JSON.stringify({ app: 'dht', fw: '1.0', rssi: -61 }), {
      qos: 1,
      retain: true,
    });
    const other = await mqtt.connectAsync(mqttUrl, { clientId: 'mqttx-123', reconnectPeriod: 0 });
    // Topics that end as status and info do, but are neither, make no board of ours.
    await other.publishAsync('mqttx-123/stats', JSON.stringify({ app: 'x' }), { qos: 1, retain: true });
    await other.publishAsync('weather/photo', JSON.stringify({ app: 'y' }), { qos: 1 });

    const list = (await (await fetch(`${base}/api/devices`)).json()) as {
      devices: Record<string, unknown>[];
    };
    const dht = list.devices.find((d) => d.id === 'dht1')!;
    expect(dht).toMatchObject({ ours: true, online: true, info: { app: 'dht', rssi: -61 } });
    expect((dht.client as { protocolVersion: number }).protocolVersion).toBe(4);
    const mqttx = list.devices.find((d) => d.id === 'mqttx-123');
    expect(mqttx).toMatchObject({ ours: false, online: true });
    expect(mqttx?.info).toBeUndefined();
    expect(list.devices.find((d) => d.id === 'weather')).toBeUndefined();

    // The board's link dies: its will says offline, and the disconnect is recorded with its reason.
    (board as unknown as { stream: { destroy(): void } }).stream.destroy();
    const after = await eventually(async () => {
      const d = (await (await fetch(`${base}/api/devices/dht1`)).json()) as Record<string, unknown>;
      return d.online === false ? d : undefined;
    }, 'dht1 offline');
    expect((after.disconnects as { reason: string }[])[0]!.reason).toMatch(/^(client-closed|socket-error)$/);
    expect(after.session).toMatchObject({ subscriptions: 0 });
    board.end(true);
    await other.endAsync();
  }, 30_000);

  it('pages through a level of more than 1,000 children with a cursor, every child once, in order', async () => {
    const { base, mqttUrl } = await hubUp();
    const c = await mqtt.connectAsync(mqttUrl, { reconnectPeriod: 0 });
    const names = Array.from({ length: 2345 }, (_, i) => `n${String(i).padStart(4, '0')}`);
    for (const name of names) c.publish(`wide/${name}`, '1', { qos: 0 });
    await c.publishAsync('wide/zz-last', '1', { qos: 1 }); // after every QoS 0 one on this connection
    await c.endAsync();
    type Page = { children: { name: string }[]; total: number; next: string | null };
    const get = async (query: string) => (await (await fetch(`${base}/api/topics?${query}`)).json()) as Page;
    const seen: string[] = [];
    const sizes: number[] = [];
    let page = await get('parent=wide');
    for (let i = 0; i < 10; i++) {
      seen.push(...page.children.map((n) => n.name));
      sizes.push(page.children.length);
      if (page.next === null) break;
      page = await get(`parent=wide&after=${encodeURIComponent(page.next)}`);
    }
    expect(sizes).toEqual([1000, 1000, 346]);
    expect(page.total).toBe(2346);
    expect(seen).toEqual([...names, 'zz-last']);
    const small = await get('parent=wide&limit=2&after=n0009');
    expect([small.children.map((n) => n.name), small.next]).toEqual([['n0010', 'n0011'], 'n0011']);
    expect((await fetch(`${base}/api/topics?parent=wide&limit=1001`)).status).toBe(400);
  }, 60_000);

  it('serves the topic tree lazily with counts and retained markers, and searches it', async () => {
    const { base, mqttUrl } = await hubUp();
    const c = await mqtt.connectAsync(mqttUrl, { reconnectPeriod: 0 });
    await c.publishAsync('testincr', 't=24.1C, h=26.5%.', { qos: 1 });
    await c.publishAsync('testincr', 't=24.2C, h=26.4%.', { qos: 1 });
    await c.publishAsync('garden/soil/moisture', '41', { qos: 1, retain: true });
    await c.endAsync();
    const top = (await (await fetch(`${base}/api/topics`)).json()) as { children: Record<string, unknown>[] };
    // $SYS shows too (as in MQTT Explorer): the broker's retained figures.
    expect(top.children.map((n) => n.name)).toEqual(['$SYS', 'garden', 'testincr']);
    expect(top.children.find((n) => n.name === 'testincr')).toMatchObject({ messages: 2, retained: false });
    expect(top.children.find((n) => n.name === 'garden')).toMatchObject({
      messagesBelow: 1,
      retainedBelow: 1,
      children: 1,
    });
    const soil = (await (await fetch(`${base}/api/topics?parent=garden/soil`)).json()) as {
      children: Record<string, unknown>[];
    };
    expect(soil.children).toEqual([
      expect.objectContaining({ topic: 'garden/soil/moisture', retained: true, messages: 1 }),
    ]);
    const found = (await (await fetch(`${base}/api/topics/search?q=MOIST`)).json()) as {
      topics: { topic: string }[];
    };
    expect(found.topics.map((t) => t.topic)).toEqual(['garden/soil/moisture']);
    expect((await fetch(`${base}/api/topics?parent=nothing/here`)).status).toBe(404);
  }, 30_000);

  it('publishes for the page (as mosquitto_pub would) and refuses cross-site requests', async () => {
    const { base, mqttUrl } = await hubUp();
    const led = await mqtt.connectAsync(mqttUrl, { reconnectPeriod: 0 });
    await led.subscribeAsync('output', { qos: 1 });
    const got = new Promise<[string, number]>((resolve) =>
      led.on('message', (_t, p, packet) => resolve([p.toString(), packet.qos])),
    );
    const res = await post(`${base}/api/publish`, { topic: 'output', payload: 'on', qos: 1 });
    expect(res.status).toBe(200);
    expect(await got).toEqual(['on', 1]);

    const noHeader = await fetch(`${base}/api/publish`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topic: 'output', payload: 'off' }),
    });
    expect(noHeader.status).toBe(403);
    expect(((await noHeader.json()) as { error: { code: string } }).error.code).toBe('MS_HUB_CROSS_SITE');
    const foreign = await post(
      `${base}/api/publish`,
      { topic: 'output', payload: 'off' },
      { origin: 'http://evil.example' },
    );
    expect(foreign.status).toBe(403);
    const bad = await post(`${base}/api/publish`, { topic: 'a/#', payload: 'x' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('MS_HUB_BAD_REQUEST');
    await led.endAsync();
  }, 30_000);

  it('clears retained messages under a filter: first says how many, then clears them on confirm', async () => {
    const { base, mqttUrl, m } = await hubUp();
    const c = await mqtt.connectAsync(mqttUrl, { reconnectPeriod: 0 });
    for (const t of ['blue/status', 'green/status', 'blue/btn/0'])
      await c.publishAsync(t, 'x', { qos: 1, retain: true });
    await c.endAsync();
    const ask = (await (await post(`${base}/api/retained/clear`, { filter: '+/status' })).json()) as Record<
      string,
      unknown
    >;
    expect(ask).toMatchObject({ count: 2, cleared: 0, topics: ['blue/status', 'green/status'] });
    const ours = () =>
      m.broker
        .retained()
        .map((r) => r.topic)
        .filter((t) => !t.startsWith('$'));
    expect(ours()).toHaveLength(3);
    const done = (await (
      await post(`${base}/api/retained/clear`, { filter: '+/status', confirm: true })
    ).json()) as Record<string, unknown>;
    expect(done).toMatchObject({ cleared: 2 });
    expect(ours()).toEqual(['blue/btn/0']);
  }, 30_000);

  it('lists clients with sessions and disconnects one (v5 clients are told 0x98)', async () => {
    const { base, mqttUrl } = await hubUp();
    const c = await mqtt.connectAsync(mqttUrl, {
      clientId: 'victim',
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    await c.subscribeAsync('a/#', { qos: 1 });
    const told = new Promise<number | undefined>((resolve) =>
      c.on('disconnect', (p) => resolve(p.reasonCode)),
    );
    const clients = (await (await fetch(`${base}/api/clients`)).json()) as {
      clients: Record<string, unknown>[];
    };
    expect(clients.clients.find((x) => x.clientId === 'victim')).toMatchObject({
      protocolVersion: 5,
      subscriptions: [{ filter: 'a/#', qos: 1 }],
    });
    expect((await post(`${base}/api/clients/victim/disconnect`, {})).status).toBe(200);
    expect(await told).toBe(0x98);
    const reason = await eventually(async () => {
      const list = (await (await fetch(`${base}/api/clients`)).json()) as {
        recentlyDisconnected: { clientId: string; disconnects: { reason: string }[] }[];
      };
      return list.recentlyDisconnected.find((g) => g.clientId === 'victim')?.disconnects[0]?.reason;
    }, 'the disconnect recorded');
    expect(reason).toBe('administrative-action');
    expect((await post(`${base}/api/clients/nobody/disconnect`, {})).status).toBe(404);
    c.end(true);
  }, 30_000);

  it('/metrics speaks Prometheus text with the $SYS figures', async () => {
    const { base, mqttUrl } = await hubUp();
    const c = await mqtt.connectAsync(mqttUrl, { reconnectPeriod: 0 });
    await c.publishAsync('x', 'y', { qos: 1 });
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/^# HELP mothership_clients_connected /m);
    expect(text).toMatch(/^# TYPE mothership_publish_received_total counter$/m);
    expect(text).toMatch(/^mothership_clients_connected 1$/m);
    expect(text).toMatch(/^mothership_store_failing 0$/m);
    await c.endAsync();
  }, 30_000);

  it('MQTT over WebSocket still works on the same port', async () => {
    const { wsBase } = await hubUp();
    const c = await mqtt.connectAsync(`${wsBase}/mqtt`, { reconnectPeriod: 0 });
    await c.publishAsync('ws/ok', '1', { qos: 1 });
    await c.endAsync();
  }, 30_000);
});
