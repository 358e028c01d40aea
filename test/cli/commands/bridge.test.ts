import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, client, eventually, node, scratch } from '../../bridge/helpers.js';
import { runCli } from '../../helpers/cli.js';
import { freePort as closedPort } from '../../helpers/mosquitto.js';

afterEach(cleanup);

/** The hub's HTTP port, from the API address the test node gives. */
function httpPort(api: string | undefined): string {
  return new URL(api!).port;
}

describe('mothership bridge list', () => {
  it("prints each bridge of a running hub: its state, remote, queue and drops (and --json, the API's answer)", async () => {
    const remote = await node();
    const down = await closedPort();
    const hub = await node(
      [
        'connection cloud',
        `address 127.0.0.1:${remote.port}`,
        'topic fleet/# out 1',
        'connection backup',
        `address 127.0.0.1:${down}`,
        'restart_timeout 60',
        'bridge_queue_max_messages 2',
        'topic backup/# out 1',
      ],
      undefined,
      true,
    );
    await eventually(() => hub.m.bridges.get('cloud')?.status().connected, 'the bridge to connect');
    await eventually(() => hub.m.bridges.get('backup')?.status().state === 'waiting', 'the refused connect');
    const pub = await client(hub.url, { protocolVersion: 4 });
    for (let i = 0; i < 3; i++) await pub.publishAsync('backup/x', String(i), { qos: 1 });

    const table = await runCli(['bridge', 'list', '-h', '127.0.0.1', '-p', httpPort(hub.api)]);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATE\s+REMOTE\s+QUEUED\s+BYTES\s+OLDEST\s+DROPPED\s+LAST ERROR$/);
    expect(lines[1]).toMatch(
      new RegExp(`^cloud\\s+connected\\s+127\\.0\\.0\\.1:${remote.port}\\s+0\\s+0\\s+-\\s+0\\s+-$`),
    );
    // 3 published, 2 kept (bridge_queue_max_messages), 1 dropped; 8 + 1 bytes each; the refused connect.
    expect(lines[2]).toMatch(/^backup\s+waiting\s+-\s+2\s+18\s+\d+s\s+1\s+\S.*ECONNREFUSED/);
    expect(lines).toHaveLength(3);

    const json = await runCli(['bridge', 'list', '-h', '127.0.0.1', '-p', httpPort(hub.api), '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ name: 'cloud', connected: true, queued: 0 }),
      expect.objectContaining({
        name: 'backup',
        connected: false,
        queued: 2,
        dropped: 1,
        drops: expect.objectContaining({ queueFull: 1 }),
      }),
    ]);
  });

  it('logs in with -u and -P when the hub wants it, and says so when not given', async () => {
    const dir = await scratch();
    const passwords = join(dir, 'passwords');
    const made = await runCli(['passwd', '-c', '-b', passwords, 'admin', 's3cret']);
    expect(made.code).toBe(0);
    const hub = await node(
      [
        'allow_anonymous false',
        `password_file ${passwords}`,
        'connection cloud',
        'address 127.0.0.1:1',
        'topic a out',
      ],
      dir,
      true,
    );
    const port = httpPort(hub.api);
    const anonymous = await runCli(['bridge', 'list', '-h', '127.0.0.1', '-p', port]);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(
      /^mothership bridge: the hub refused: 401 .*\(log in with -u and -P\)\n$/,
    );

    const wrong = await runCli([
      'bridge',
      'list',
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-u',
      'admin',
      '-P',
      'nope',
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('401 wrong username or password');

    const ok = await runCli(['bridge', 'list', '-h', '127.0.0.1', '-p', port, '-u', 'admin', '-P', 's3cret']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/\ncloud\s+waiting\s/);
  });

  it('says clearly when no hub answers, and what add and remove need', async () => {
    const port = await closedPort();
    const none = await runCli(['bridge', 'list', '-h', '127.0.0.1', '-p', String(port)]);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      `mothership bridge: no hub answers at http://127.0.0.1:${port}/api/bridges (ECONNREFUSED); is 'mothership up' running there? -h and -p name its HTTP port\n`,
    );
    const add = await runCli(['bridge', 'add', 'x']);
    expect(add.code).toBe(1);
    expect(add.stderr).toContain('add x needs --address HOST[:PORT]');
    const neither = await runCli(['bridge', 'add', '--topic', 'a']);
    expect(neither.stderr).toContain(
      'add needs NAME and --address/--topic, or -f FILE with a connection block',
    );
    const remove = await runCli(['bridge', 'remove']);
    expect(remove.stderr).toContain('remove needs the name of the bridge');
    const other = await runCli(['bridge', 'change', 'x']);
    expect(other.stderr).toContain("unknown command 'change' (list, add or remove)");
    const bad = await runCli(['bridge', 'list', '-p', '0']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('-p needs a whole number 1..65535');
  }, 180_000); // seven CLI processes: bounds a hang on a loaded machine, not a speed
});
