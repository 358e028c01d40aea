/**
 * A bridge's local side under the hub's access rules: trusted without local_username (as mosquitto 2,
 * whose ACL check lets bridges through), also with per_listener_settings and an ACL file; with
 * local_username it logs in with local_password and that user's ACL decides what crosses.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { passwordFile } from '../hub/helpers.js';
import { cleanup, client, cloudBridge, collector, eventually, node, scratch, stopNode } from './helpers.js';

afterEach(cleanup);

/** A hub with these security lines and a bridge `a/# both 1` to a fresh remote; both directions checked. */
async function bridged(security: string[], bridgeLines: string[] = [], dir?: string) {
  const remote = await node();
  const hub = await node([...security, ...cloudBridge(remote.port, 'topic a/# both 1', ...bridgeLines)], dir);
  return { remote, hub };
}

async function crossesBothWays(
  remote: { url: string },
  hub: { url: string },
  hubLogin: { username?: string; password?: string } = {},
): Promise<void> {
  const atRemote = await collector(remote.url, 'a/#');
  const hubClient = await client(hub.url, hubLogin);
  const atHub: string[] = [];
  hubClient.on('message', (t, p) => atHub.push(`${t} ${p}`));
  await hubClient.subscribeAsync('a/#', { qos: 1 });
  await hubClient.publishAsync('a/out', 'o', { qos: 1 });
  await atRemote.until((m) => m.topic === 'a/out');
  const remoteClient = await client(remote.url);
  await remoteClient.publishAsync('a/in', 'i', { qos: 1 });
  await eventually(() => atHub.includes('a/in i'), 'the message from the remote at the hub');
}

/** A bridge logged in as `bridge` (read a/ok/#, write a/in/#): only what that user may crosses. */
async function localUserDecides(first: string[]) {
  const dir = await scratch();
  const acl = join(dir, 'acl');
  await writeFile(
    acl,
    ['user alice', 'topic readwrite a/#', 'user bridge', 'topic read a/ok/#', 'topic write a/in/#', ''].join(
      '\n',
    ),
  );
  const passwords = await passwordFile(dir, { alice: 'pw', bridge: 'bpw' });
  const security = [...first, 'allow_anonymous false', `password_file ${passwords}`, `acl_file ${acl}`];
  const { remote, hub } = await bridged(security, ['local_username bridge', 'local_password bpw'], dir);
  await eventually(() => hub.m.bridges.get('cloud')?.status().connected, 'the bridge to connect');
  const atRemote = await collector(remote.url, 'a/#');
  const alice = await client(hub.url, { username: 'alice', password: 'pw' });
  await alice.publishAsync('a/secret', 'no', { qos: 1 });
  await alice.publishAsync('a/ok/1', 'yes', { qos: 1 });
  await atRemote.until((m) => m.topic === 'a/ok/1');
  expect(atRemote.messages.map((m) => m.topic)).toEqual(['a/ok/1']); // a/secret was never queued
  const seen: string[] = [];
  alice.on('message', (t) => seen.push(t));
  await alice.subscribeAsync('a/#', { qos: 1 });
  const remoteClient = await client(remote.url);
  await remoteClient.publishAsync('a/nope', 'x', { qos: 1 });
  await remoteClient.publishAsync('a/in/1', 'y', { qos: 1 });
  await eventually(() => seen.includes('a/in/1'), 'the allowed message from the remote');
  expect(seen.filter((t) => t !== 'a/ok/1')).toEqual(['a/in/1']); // a/nope refused: no write right
  return { remote, dir, security };
}

describe("a bridge's local client and the hub's access rules", () => {
  it('works with per_listener_settings true (no listener of its own to take rules from)', async () => {
    const { remote, hub } = await bridged(['per_listener_settings true', 'allow_anonymous true']);
    await eventually(() => hub.m.bridges.get('cloud')?.status().connected, 'the bridge to connect');
    await crossesBothWays(remote, hub);
  });

  it('works beside an ACL file that gives anonymous clients nothing', async () => {
    const dir = await scratch();
    const acl = join(dir, 'acl');
    await writeFile(acl, 'user alice\ntopic readwrite a/#\n');
    const passwords = await passwordFile(dir, { alice: 'pw' });
    const { remote, hub } = await bridged(
      ['allow_anonymous false', `password_file ${passwords}`, `acl_file ${acl}`],
      [],
      dir,
    );
    await eventually(() => hub.m.bridges.get('cloud')?.status().connected, 'the bridge to connect');
    await crossesBothWays(remote, hub, { username: 'alice', password: 'pw' });
  });

  it("with local_username, that user's ACL decides what crosses; a wrong local_password stops it", async () => {
    const { remote, dir, security } = await localUserDecides([]);

    const wrong = await node([
      ...security,
      ...cloudBridge(remote.port, 'topic a/# both 1', 'local_username bridge', 'local_password x'),
    ]);
    const status = wrong.m.bridges.get('cloud')!.status();
    expect(status.connected).toBe(false);
    expect(status.lastError).toBe("this broker refused local_username 'bridge': wrong local_password");
    // The password file fixed and reloaded (SIGHUP): the bridge's next login attempt gets in.
    await passwordFile(dir, { alice: 'pw', bridge: 'x' });
    await wrong.m.reload();
    await eventually(
      () => wrong.m.bridges.get('cloud')?.status().connected,
      'the bridge to log in and connect',
    );
  });

  it('under per_listener_settings, the files of the listener that accepts local_username apply', async () => {
    await localUserDecides(['per_listener_settings true']);
  });

  it('removing a bridge whose local login is refused deletes its queue from an earlier run', async () => {
    const dir = await scratch();
    const security = ['allow_anonymous false', `password_file ${join(dir, 'passwd')}`];
    await passwordFile(dir, { bridge: 'right' });
    const lines = [
      ...security,
      ...cloudBridge(1, 'topic a/# out 1', 'local_username bridge', 'local_password right'),
    ];
    const first = await node(lines, dir);
    expect(first.m.broker.sessionInfo().map((s) => s.clientId)).toContain('local.hub-a');
    await stopNode(first);
    await passwordFile(dir, { bridge: 'changed' });
    const again = await node(lines, dir);
    expect(again.m.bridges.get('cloud')!.status().lastError).toContain('wrong local_password');
    expect(again.m.broker.sessionInfo().map((s) => s.clientId)).toContain('local.hub-a');
    await writeFile(again.configFile, ['listener 0 127.0.0.1', 'log_dest none', ...security, ''].join('\n'));
    await again.m.reload();
    expect(again.m.bridges.names).toEqual([]);
    expect(again.m.broker.sessionInfo().map((s) => s.clientId)).not.toContain('local.hub-a');
  });

  it('refuses local_password without local_username, naming the line', async () => {
    await expect(node(cloudBridge(1, 'local_password x'))).rejects.toThrow(
      /mothership\.conf:\d+: connection cloud: local_password needs local_username/,
    );
  });
});
