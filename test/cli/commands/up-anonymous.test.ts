// Item: a drop-in mosquitto.conf that asks for logins is never looser under Mothership than under
// mosquitto 2. The LAN rule is the default when nothing about security is configured (no config, or a
// listener alone as in seed 000/001, whose boards must keep connecting); a config with a password or
// ACL file but no allow_anonymous refuses anonymous clients (mosquitto 2's default), and the banner
// says which rule is in force and why.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningCli, runCli, startCli } from '../../helpers/cli.js';
import { mosquittoPubResult } from '../../helpers/mosquitto.js';

const exec = promisify(execFile);
let running: RunningCli | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ms-anon-'));
}

function tempConfig(dir: string, text: string): string {
  const file = join(dir, 'mosquitto.conf');
  writeFileSync(file, text);
  return file;
}

async function up(args: string[]): Promise<number> {
  running = startCli(['up', '--no-mdns', ...args]);
  const port = Number((await running.waitFor(/MQTT\s+mqtt:\/\/[^:]+:(\d+)/))[1]);
  await running.waitFor(/Stop with Ctrl\+C/);
  return port;
}

const pub = mosquittoPubResult;

function anonymousLine(): string {
  return running!.output().match(/^ {2}Anonymous .*$/m)?.[0] ?? '';
}

describe('anonymous clients under mothership up -c', () => {
  it('listener + password_file without allow_anonymous: anonymous refused even from loopback, as mosquitto 2', async () => {
    const dir = tempDir();
    const pw = join(dir, 'passwords');
    await exec('mosquitto_passwd', ['-b', '-c', pw, 'blue', 'bluepass']);
    const port = await up(['-c', tempConfig(dir, `listener 0 127.0.0.1\npassword_file ${pw}\n`)]);
    expect(anonymousLine()).toBe(
      '  Anonymous  off: every client needs a username and password (the config sets password_file but not allow_anonymous, so false as in mosquitto 2)',
    );
    const anonymous = await pub(port);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.stderr).toMatch(/not authori[sz]ed/i);
    expect(await pub(port, ['-u', 'blue', '-P', 'bluepass'])).toEqual({ code: 0, stderr: '' });
  });

  it("listener + acl_file without allow_anonymous: anonymous refused, not let in under the ACL's anonymous rules", async () => {
    const dir = tempDir();
    const acl = join(dir, 'acl');
    writeFileSync(acl, 'topic readwrite #\n');
    const port = await up(['-c', tempConfig(dir, `listener 0 127.0.0.1\nacl_file ${acl}\n`)]);
    expect(anonymousLine()).toMatch(/off: .*\(the config sets acl_file but not allow_anonymous/);
    expect((await pub(port)).code).not.toBe(0);
  });

  it('a listener alone (seed 000/001) keeps the LAN rule, so the seed works; the banner says how to close it', async () => {
    const port = await up([
      '-c',
      tempConfig(tempDir(), 'persistence false\n# mqtt\nlistener 0 127.0.0.1\nprotocol mqtt\n'),
    ]);
    expect(anonymousLine()).toMatch(
      /local network only .*\(the config sets no allow_anonymous, password_file or acl_file; mosquitto 2 would refuse anonymous clients: set allow_anonymous false for that\)$/,
    );
    expect(await pub(port)).toEqual({ code: 0, stderr: '' });
  });

  it("'allow_anonymous lan' says so: loopback and the LAN get in anonymously", async () => {
    const port = await up(['-c', tempConfig(tempDir(), 'listener 0 127.0.0.1\nallow_anonymous lan\n')]);
    expect(anonymousLine()).toMatch(
      /allowed from this machine and the local network only .*\(allow_anonymous lan\)$/,
    );
    expect(await pub(port)).toEqual({ code: 0, stderr: '' });
  });

  it('no config file: the LAN rule, and the banner says why', async () => {
    const port = await up(['-p', '0', '--no-ws', '--host', '127.0.0.1']);
    expect(anonymousLine()).toMatch(/local network only .*\(no config file\)$/);
    expect(await pub(port)).toEqual({ code: 0, stderr: '' });
  });

  it('a config without listeners or security settings keeps the LAN rule', async () => {
    running = startCli(['up', '--no-mdns', '-c', tempConfig(tempDir(), 'persistence false\n')]);
    await running.waitFor(/Stop with Ctrl\+C/);
    expect(anonymousLine()).toMatch(
      /local network only .*\(the config sets no listener and no allow_anonymous\)$/,
    );
  });

  it('a bad allow_anonymous value names file:line and the accepted forms', async () => {
    const config = tempConfig(tempDir(), 'listener 0\nallow_anonymous maybe\n');
    const r = await runCli(['up', '-c', config, '--no-mdns']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `mothership up: ${config}:2: allow_anonymous must be true, false or lan (anonymous from this machine and the local network only), got 'maybe'`,
    );
  });
});
