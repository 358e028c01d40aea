/**
 * `mothership bridge add` and `remove`, the real CLI against a real hub (its HTTP API) and Debian's
 * mosquitto as the remote: from flags, a file and stdin; messages flow at once; remove stops the link;
 * refusals say what to do.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  adminAndBobHub,
  cleanup,
  client,
  collector,
  eventually,
  node,
  scratch,
} from '../../bridge/helpers.js';
import { runCli } from '../../helpers/cli.js';
import { type RunningMosquitto, startMosquitto } from '../../helpers/mosquitto.js';

afterEach(cleanup);

let mosquitto: RunningMosquitto;
beforeAll(async () => {
  mosquitto = await startMosquitto({ allowAnonymous: true });
});
afterAll(async () => {
  await mosquitto?.stop();
});

/** Each test spawns 3-5 CLI processes (seconds each on a loaded 2-core machine): this bounds a hang. */
const SPAWNS_TIMEOUT = 240_000;

const at = (api: string | undefined) => ['-h', '127.0.0.1', '-p', new URL(api!).port];

describe('mothership bridge add and remove', () => {
  it(
    'adds a bridge to mosquitto from flags: messages flow at once; list shows it; remove stops it',
    async () => {
      const hub = await node([], undefined, true);
      const remoteUrl = `mqtt://127.0.0.1:${mosquitto.port}`;
      const added = await runCli([
        'bridge',
        'add',
        'cloud',
        ...at(hub.api),
        '--address',
        `127.0.0.1:${mosquitto.port}`,
        '--topic',
        'sensors/# out 1 "" home/',
        '--remote-clientid',
        'hub-flags',
      ]);
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      expect(added.stdout).toBe(
        `Added bridge cloud: connecting (kept in ${join(hub.dir, 'data', 'bridges.conf')}).\n`,
      );
      await eventually(() => hub.m.bridges.get('cloud')?.status().connected, 'the bridge to connect');
      const atRemote = await collector(remoteUrl, 'home/#');
      const pub = await client(hub.url);
      await pub.publishAsync('sensors/t1', '21.5', { qos: 1 });
      expect((await atRemote.until((m) => m.topic === 'home/sensors/t1'))[0]!.payload).toBe('21.5');

      const listed = await runCli(['bridge', 'list', ...at(hub.api)]);
      expect(listed.stdout).toMatch(
        new RegExp(`\\ncloud\\s+connected\\s+127\\.0\\.0\\.1:${mosquitto.port}\\s`),
      );

      const removed = await runCli(['bridge', 'remove', 'cloud', ...at(hub.api)]);
      expect(removed.stderr).toBe('');
      expect(removed.stdout).toBe('Removed bridge cloud (its queue was empty).\n');
      expect(hub.m.bridges.names).toEqual([]);
      // The link is gone: the remote's state topic (the bridge's will or its last word) says 0.
      const state = await collector(remoteUrl, '$SYS/broker/connection/hub-flags/state');
      await state.until((m) => m.payload === '0');
    },
    SPAWNS_TIMEOUT,
  );

  it(
    'adds a connection block from a file and from stdin; a bad line is named by file:line',
    async () => {
      const hub = await node([], undefined, true);
      const dir = await scratch();
      const file = join(dir, 'hub-bridge.conf');
      const blockText = (name: string, extra = '') =>
        `# my bridge\nconnection ${name}\naddress 127.0.0.1:${mosquitto.port}\nremote_clientid hub-${name}\n${extra}topic ${name}/# out 1\n`;
      await writeFile(file, blockText('fromfile'));
      const fromFile = await runCli(['bridge', 'add', '-f', file, ...at(hub.api)]);
      expect(fromFile.stderr).toBe('');
      expect(fromFile.code).toBe(0);
      const fromStdin = await runCli(['bridge', 'add', '-f', '-', ...at(hub.api)], {
        input: blockText('piped'),
      });
      expect(fromStdin.code).toBe(0);
      expect(hub.m.bridges.names).toEqual(['fromfile', 'piped']);
      const atRemote = await collector(`mqtt://127.0.0.1:${mosquitto.port}`, 'piped/#');
      const pub = await client(hub.url);
      await pub.publishAsync('piped/x', 'p', { qos: 1 });
      await atRemote.until((m) => m.topic === 'piped/x');

      await writeFile(file, blockText('bad', 'keepalive_interval 2\n'));
      const bad = await runCli(['bridge', 'add', '-f', file, ...at(hub.api)]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toBe(
        `mothership bridge: the hub refused: 400 ${file}:5: keepalive_interval must be an integer number of seconds, 5..65535, got '2'\n`,
      );
      const badFlag = await runCli([
        'bridge',
        'add',
        'f',
        ...at(hub.api),
        '--address',
        '127.0.0.1:1',
        '--topic',
        'a sideways',
      ]);
      expect(badFlag.code).toBe(1);
      expect(badFlag.stderr).toContain('400 flags:3: topic must be');
      expect(badFlag.stderr).toContain('   3  topic a sideways');
      expect(hub.m.bridges.names).toEqual(['fromfile', 'piped']);
    },
    SPAWNS_TIMEOUT,
  );

  it(
    'refuses to remove a config-file bridge or an unknown one, and a name taken',
    async () => {
      const hub = await node(
        ['connection cloud', `address 127.0.0.1:${mosquitto.port}`, 'topic a out'],
        undefined,
        true,
      );
      const fromConfig = await runCli(['bridge', 'remove', 'cloud', ...at(hub.api)]);
      expect(fromConfig.code).toBe(1);
      expect(fromConfig.stderr).toBe(
        `mothership bridge: the hub refused: 409 bridge 'cloud' comes from the config file (${hub.configFile}:5): remove its connection block there, then 'kill -HUP' the hub\n`,
      );
      const unknown = await runCli(['bridge', 'remove', 'nope', ...at(hub.api)]);
      expect(unknown.stderr).toBe("mothership bridge: the hub refused: 404 no such bridge 'nope'\n");
      const taken = await runCli([
        'bridge',
        'add',
        'cloud',
        ...at(hub.api),
        '--address',
        '127.0.0.1:1',
        '--topic',
        'b out',
      ]);
      expect(taken.stderr).toBe(
        `mothership bridge: the hub refused: 409 a bridge named 'cloud' exists already (${hub.configFile}:5)\n`,
      );
      expect(hub.m.bridges.names).toEqual(['cloud']);
    },
    SPAWNS_TIMEOUT,
  );

  it(
    'logs in with -u/-P, and a user without the administration right is refused',
    async () => {
      const hub = await adminAndBobHub();
      const flags = ['--address', `127.0.0.1:${mosquitto.port}`, '--topic', 'a out'];
      const bob = await runCli(['bridge', 'add', 'x', ...at(hub.api), '-u', 'bob', '-P', 'b', ...flags]);
      expect(bob.code).toBe(1);
      expect(bob.stderr).toBe(
        'mothership bridge: the hub refused: 403 not allowed: adding and removing bridges is administration, it needs write on $hub/admin\n',
      );
      const admin = await runCli(['bridge', 'add', 'x', ...at(hub.api), '-u', 'admin', '-P', 'a', ...flags]);
      expect(admin.stderr).toBe('');
      expect(hub.m.bridges.names).toEqual(['x']);
      const gone = await runCli(['bridge', 'remove', 'x', ...at(hub.api), '-u', 'admin', '-P', 'a']);
      expect(gone.code).toBe(0);
      expect(hub.m.bridges.names).toEqual([]);
    },
    SPAWNS_TIMEOUT,
  );
});
