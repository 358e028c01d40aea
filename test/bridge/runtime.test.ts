/**
 * Bridges added and removed while the hub runs, over its real HTTP API: started at once beside the
 * others, kept in <data dir>/bridges.conf across restarts and reloads, removed with their queue; and
 * every refusal (a config-file bridge, an unknown name, a name taken, a bad line, a non-admin).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/mosquitto.js';
import {
  adminAndBobHub,
  cleanup,
  client,
  cloudBridge,
  collector,
  eventually,
  login as loginAt,
  node,
  stopNode,
} from './helpers.js';

afterEach(cleanup);

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-mothership': '1', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

function block(name: string, port: number, ...lines: string[]): string {
  return [
    `connection ${name}`,
    `address 127.0.0.1:${port}`,
    `remote_clientid hub-${name}`,
    'restart_timeout 1 2',
    ...lines,
    '',
  ].join('\n');
}

const hubWith = (remotePort: number, dir?: string) =>
  node(cloudBridge(remotePort, 'topic a/# out 1'), dir, true);

describe('bridges added and removed through the hub API', () => {
  it('starts an added bridge at once beside the others, keeps it across a restart and a reload, and removes it', async () => {
    const remote = await node();
    const hub = await hubWith(remote.port);
    const cloud = hub.m.bridges.get('cloud')!;
    await eventually(() => cloud.status().connected, 'the config-file bridge to connect');

    const added = await post(`${hub.api}/bridges`, {
      config: block('extra', remote.port, 'topic b/# out 1'),
      source: 'extra.conf',
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({
      bridge: { name: 'extra' },
      file: join(hub.dir, 'data', 'bridges.conf'),
      warnings: [],
    });
    expect(hub.m.bridges.get('cloud')).toBe(cloud); // untouched: same link
    const kept = await readFile(join(hub.dir, 'data', 'bridges.conf'), 'utf8');
    expect(kept).toMatch(
      /^connection extra\n# added through the hub API by anonymous from \S+, \d{4}-.*\naddress 127\.0\.0\.1:\d+\n/m,
    );

    const atRemote = await collector(remote.url, 'b/#');
    const pub = await client(hub.url);
    await pub.publishAsync('b/1', 'one', { qos: 1 });
    await atRemote.until((m) => m.topic === 'b/1');

    await hub.m.reload(); // SIGHUP: the config file has no 'extra', bridges.conf does
    expect(hub.m.bridges.names).toEqual(['cloud', 'extra']);

    await stopNode(hub);
    const again = await hubWith(remote.port, hub.dir);
    expect(again.m.bridges.names).toEqual(['cloud', 'extra']);
    const pub2 = await client(again.url);
    await pub2.publishAsync('b/2', 'two', { qos: 1 });
    await atRemote.until((m) => m.topic === 'b/2');

    const removed = await post(`${again.api}/bridges/extra/remove`, {});
    expect(removed).toEqual({ status: 200, body: { removed: 'extra', dropped: 0 } });
    expect(again.m.bridges.names).toEqual(['cloud']);
    await eventually(
      () => !remote.m.broker.clients().some((c) => c.clientId === 'hub-extra'),
      'its link to close',
    );
    expect(again.m.broker.sessionInfo().map((s) => s.clientId)).not.toContain('local.hub-extra');
    expect(await readFile(join(hub.dir, 'data', 'bridges.conf'), 'utf8')).not.toContain('extra');

    await stopNode(again);
    const third = await hubWith(remote.port, hub.dir);
    expect(third.m.bridges.names).toEqual(['cloud']);
  });

  it('refuses a config-file bridge, an unknown name, a name taken, and a bad or foreign line, naming file:line', async () => {
    const remote = await node();
    const hub = await hubWith(remote.port);
    const api = hub.api!;
    const fromFile = await post(`${api}/bridges/cloud/remove`, {});
    expect(fromFile.status).toBe(409);
    expect(fromFile.body.error).toEqual({
      code: 'MS_BRIDGE_IN_CONFIG_FILE',
      message: `bridge 'cloud' comes from the config file (${hub.configFile}:5): remove its connection block there, then 'kill -HUP' the hub`,
    });
    const unknown = await post(`${api}/bridges/nope/remove`, {});
    expect(unknown).toMatchObject({
      status: 404,
      body: { error: { code: 'MS_HUB_NOT_FOUND', message: "no such bridge 'nope'" } },
    });

    const taken = await post(`${api}/bridges`, { config: block('cloud', remote.port, 'topic x out') });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toEqual({
      code: 'MS_BRIDGE_NAME_TAKEN',
      message: `a bridge named 'cloud' exists already (${hub.configFile}:5)`,
    });
    const board = await client(hub.url, { clientId: 'board1', clean: false, protocolVersion: 4 });
    await board.subscribeAsync('cmd/board1', { qos: 1 });
    const hijack = await post(`${api}/bridges`, {
      config: block('y', remote.port, 'local_clientid board1', 'topic x out'),
    });
    expect(hijack.body.error).toEqual({
      code: 'MS_BRIDGE_NAME_TAKEN',
      message:
        "a client of this broker has the session 'board1' the bridge would use locally (set local_clientid)",
    });
    expect(hub.m.broker.subscriptions('board1').map((s) => s.filter)).toEqual(['cmd/board1']);
    const bad = await post(`${api}/bridges`, {
      config: block('x', remote.port, 'topic a/# sideways'),
      source: 'mine.conf',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('MS_CONFIG_INVALID_VALUE');
    expect(bad.body.error?.message).toMatch(/^mine\.conf:5: topic must be /);
    const foreign = await post(`${api}/bridges`, {
      config: block('x', remote.port, 'password_file /etc/passwd'),
      source: 'mine.conf',
    });
    expect(foreign.body.error?.message).toBe(
      "mine.conf:5: 'password_file' is not a bridge directive: only connection blocks go here (the broker's own settings belong in its config file)",
    );
    const relative = await post(`${api}/bridges`, {
      config: block('x', remote.port, 'bridge_cafile ca.crt'),
      source: 'mine.conf',
    });
    expect(relative.body.error?.message).toBe(
      "mine.conf:5: bridge_cafile needs an absolute path on the hub's machine, got 'ca.crt'",
    );
    const lone = await post(`${api}/bridges`, { config: block('x', remote.port).replaceAll('\n', '\r') });
    expect(lone.body.error?.message).toBe('request: lines must end with \\n or \\r\\n, not a lone \\r');
    const crlf = await post(`${api}/bridges`, {
      config: block('crlf', remote.port, 'topic c out').replaceAll('\n', '\r\n'),
    });
    expect(crlf.status).toBe(201);
    const two = await post(`${api}/bridges`, { config: block('x', remote.port) + block('y', remote.port) });
    expect(two.body.error?.message).toBe('request: needs exactly one connection block, got 2');
    const unsupported = await post(`${api}/bridges`, {
      config: block('x', remote.port, 'bridge_alpn x', 'topic q out'),
      source: 'mine.conf',
    });
    expect(unsupported.status).toBe(201);
    expect(unsupported.body.warnings).toEqual([
      "mine.conf:5: 'bridge_alpn' is a mosquitto directive Mothership does not support yet; ignored",
    ]);
    // Nothing refused was kept or started.
    expect(hub.m.bridges.names).toEqual(['cloud', 'crlf', 'x']);
    expect((await readFile(join(hub.dir, 'data', 'bridges.conf'), 'utf8')).match(/^connection /gm)).toEqual([
      'connection ',
      'connection ',
    ]);
  });

  it('refuses to remove a bridge whose queue holds messages unless forced, and says how many were dropped', async () => {
    const down = await freePort();
    const hub = await node([], undefined, true);
    const added = await post(`${hub.api}/bridges`, {
      config: block('later', down, 'restart_timeout 60', 'topic q/# out 1'),
    });
    expect(added.status).toBe(201);
    const pub = await client(hub.url);
    for (let i = 0; i < 3; i++) await pub.publishAsync('q/x', String(i), { qos: 1 });
    const refused = await post(`${hub.api}/bridges/later/remove`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe('MS_BRIDGE_QUEUE_NOT_EMPTY');
    expect(refused.body.error?.message).toMatch(
      /^bridge 'later' holds 3 message\(s\) its remote has not acknowledged/,
    );
    expect(hub.m.bridges.names).toEqual(['later']);
    const forced = await post(`${hub.api}/bridges/later/remove`, { force: true });
    expect(forced).toEqual({ status: 200, body: { removed: 'later', dropped: 3 } });
  });

  it('needs the administration right (write on $hub/admin) and the anti-CSRF header', async () => {
    const remote = await node();
    const hub = await adminAndBobHub();
    const login = (username: string, password: string) => loginAt(hub.api!, username, password);
    const config = block('x', remote.port, 'topic a out');
    expect((await post(`${hub.api}/bridges`, { config })).status).toBe(401);
    const bob = await post(`${hub.api}/bridges`, { config }, await login('bob', 'b'));
    expect(bob.status).toBe(403);
    expect(bob.body.error?.message).toBe(
      'not allowed: adding and removing bridges is administration, it needs write on $hub/admin',
    );
    const admin = await login('admin', 'a');
    const crossSite = await fetch(`${hub.api}/bridges`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...admin },
      body: JSON.stringify({ config }),
    });
    expect(crossSite.status).toBe(403);
    expect(hub.m.bridges.names).toEqual([]);
    expect((await post(`${hub.api}/bridges`, { config }, admin)).status).toBe(201);
    expect((await post(`${hub.api}/bridges/x/remove`, {}, await login('bob', 'b'))).status).toBe(403);
    expect((await post(`${hub.api}/bridges/x/remove`, {}, admin)).status).toBe(200);
  });

  it('says where to put the bridge when the hub keeps no data (persistence false)', async () => {
    const remote = await node();
    const hub = await node(['persistence false'], undefined, true);
    const r = await post(`${hub.api}/bridges`, { config: block('x', remote.port, 'topic a out') });
    expect(r.status).toBe(409);
    expect(r.body.error?.code).toBe('MS_BRIDGES_NOT_KEPT');
    expect(hub.m.bridges.names).toEqual([]);
  });

  it('will not start when the config file and bridges.conf name the same bridge', async () => {
    const remote = await node();
    const hub = await node([], undefined, true);
    expect(
      (await post(`${hub.api}/bridges`, { config: block('cloud', remote.port, 'topic a out') })).status,
    ).toBe(201);
    await stopNode(hub);
    await expect(hubWith(remote.port, hub.dir)).rejects.toThrow(
      /bridges\.conf:\d+: connection cloud: the config file has a bridge of that name too \(.*mothership\.conf:5\); remove one of them/,
    );
  });
});
