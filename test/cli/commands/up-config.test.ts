import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningCli, runCli, startCli } from '../../helpers/cli.js';
import { mosquittoPubResult, subscribedMosquittoSub } from '../../helpers/mosquitto.js';

const exec = promisify(execFile);
let running: RunningCli | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function tempConfig(text: string, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'ms-up-'));
  for (const [name, content] of Object.entries(extra)) writeFileSync(join(dir, name), content);
  const file = join(dir, 'mosquitto.conf');
  writeFileSync(file, text);
  return file;
}

async function upWith(config: string): Promise<number> {
  running = startCli(['up', '-c', config, '--no-mdns']);
  return Number((await running.waitFor(/MQTT\s+mqtt:\/\/[^:]+:(\d+)/))[1]);
}

const pub = mosquittoPubResult;

describe('mothership up -c mosquitto.conf', () => {
  it("starts with seed 002/003's config (listener + allow_anonymous true) and serves mosquitto clients", async () => {
    // The seed's lines, with port 0 so the test never needs 1883.
    const port = await upWith(tempConfig('listener 0\nallow_anonymous true\n'));
    expect(running!.output()).toMatch(/Anonymous\s+allowed from anywhere/);
    const sub = await subscribedMosquittoSub([
      '-p',
      String(port),
      '-t',
      'to_mothership',
      '-C',
      '1',
      '-W',
      '10',
    ]);
    await exec('mosquitto_pub', ['-p', String(port), '-t', 'to_mothership', '-m', 'Test to mothership #0']);
    expect((await sub.tool.done()).stdout).toMatch(
      /received PUBLISH \(d0, q0, r0, m0, 'to_mothership', \.\.\. \(21 bytes\)\)\nTest to mothership #0/,
    );
  });

  it("starts with seed 000/001's config (persistence false, listener with bind address, protocol mqtt); its listeners replace the defaults", async () => {
    await upWith(tempConfig('persistence false\n\n# mqtt\nlistener 0 127.0.0.1\nprotocol mqtt\n'));
    expect(running!.output()).not.toMatch(/WebSocket/);
  });

  it('password_file from Debian mosquitto_passwd: right password in, wrong one refused; SIGHUP adds a new user', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-pw-'));
    const pwfile = join(dir, 'passwords');
    await exec('mosquitto_passwd', ['-b', '-c', pwfile, 'blue', 'bluepass']);
    const port = await upWith(
      tempConfig(`listener 0 127.0.0.1\nallow_anonymous false\npassword_file ${pwfile}\n`),
    );
    expect(running!.output()).toMatch(/Anonymous\s+off/);
    expect((await pub(port, ['-u', 'blue', '-P', 'bluepass'])).code).toBe(0);
    const wrong = await pub(port, ['-u', 'blue', '-P', 'nope']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/bad user name or password|not authori[sz]ed/i);
    expect((await pub(port, [])).code).not.toBe(0);

    await exec('mosquitto_passwd', ['-b', pwfile, 'green', 'greenpass']);
    expect((await pub(port, ['-u', 'green', '-P', 'greenpass'])).code).not.toBe(0);
    running!.child.kill('SIGHUP');
    await running!.waitFor(/Reloaded: users: \+1 \(green\)/);
    expect((await pub(port, ['-u', 'green', '-P', 'greenpass'])).code).toBe(0);
  });

  it('acl_file: a user reads only what the ACL grants', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-acl-'));
    const pwfile = join(dir, 'passwords');
    await exec('mosquitto_passwd', ['-b', '-c', pwfile, 'blue', 'b']);
    await exec('mosquitto_passwd', ['-b', pwfile, 'hub', 'h']);
    const acl = join(dir, 'acl');
    writeFileSync(
      acl,
      'user blue\ntopic readwrite blue/#\ntopic read green/btn/0\n\nuser hub\ntopic readwrite #\n',
    );
    const port = await upWith(
      tempConfig(`listener 0 127.0.0.1\nallow_anonymous false\npassword_file ${pwfile}\nacl_file ${acl}\n`),
    );
    const sub = await subscribedMosquittoSub([
      '-p',
      String(port),
      '-u',
      'blue',
      '-P',
      'b',
      '-t',
      '#',
      '-v',
      '-W',
      '3',
    ]);
    for (const topic of ['green/btn/0', 'secret/plans', 'blue/led'])
      await exec('mosquitto_pub', ['-p', String(port), '-u', 'hub', '-P', 'h', '-t', topic, '-m', topic]);
    expect((await sub.messages()).sort()).toEqual(['blue/led blue/led', 'green/btn/0 green/btn/0']);
  });

  it('a bad value is one line naming file:line and the accepted form, exit code 1', async () => {
    const config = tempConfig('listener 0\nmax_keepalive lots\n');
    const r = await runCli(['up', '-c', config, '--no-mdns']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${config}:2: max_keepalive must be`);
  });

  it('an unknown directive is a warning naming file:line; the broker still starts', async () => {
    const config = tempConfig('listener 0 127.0.0.1\nfrobnicate yes\n');
    await upWith(config);
    expect(running!.output()).toMatch(
      new RegExp(`Warning: ${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2`),
    );
  });
});

describe('mothership up: logging and per-listener settings from mosquitto.conf', () => {
  it('log_dest file appends the log to that file; log_type error keeps connections out of it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-log-'));
    const logFile = join(dir, 'broker.log');
    const port = await upWith(
      tempConfig(`listener 0 127.0.0.1\nallow_anonymous true\nlog_dest file ${logFile}\n`),
    );
    await pub(port, ['-i', 'logged-board']);
    const deadline = Date.now() + 5000;
    while (!readFileOrEmpty(logFile).includes('logged-board') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(readFileOrEmpty(logFile)).toMatch(/New client connected from 127\.0\.0\.1 as logged-board/);
    await running!.stop();

    const quiet = join(dir, 'quiet.log');
    const port2 = await upWith(
      tempConfig(`listener 0 127.0.0.1\nallow_anonymous true\nlog_dest file ${quiet}\nlog_type error\n`),
    );
    await pub(port2, ['-i', 'unlogged-board']);
    await new Promise((r) => setTimeout(r, 300));
    expect(readFileOrEmpty(quiet)).not.toContain('unlogged-board');
  });

  it('a log file that cannot be written is one line at start, exit code 1', async () => {
    const r = await runCli([
      'up',
      '-c',
      tempConfig('listener 0\nlog_dest file /nonexistent-dir/x.log\n'),
      '--no-mdns',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('mothership up: cannot write log file /nonexistent-dir/x.log: ENOENT');
  });

  it('--log-json writes one JSON record per line with the client id and address', async () => {
    running = startCli(['up', '-p', '0', '--no-ws', '--host', '127.0.0.1', '--no-mdns', '--log-json']);
    const port = Number((await running.waitFor(/MQTT\s+mqtt:\/\/[^:]+:(\d+)/))[1]);
    await pub(port, ['-i', 'json-board']);
    await running.waitFor(/"event":"disconnect"/);
    const records = running
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toContainEqual(
      expect.objectContaining({
        event: 'connect',
        clientId: 'json-board',
        address: '127.0.0.1',
        protocol: 4,
      }),
    );
  });

  it('per_listener_settings: each listener has its own anonymous rule and password file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-pl-'));
    const pwfile = join(dir, 'passwords');
    await exec('mosquitto_passwd', ['-b', '-c', pwfile, 'blue', 'b']);
    running = startCli([
      'up',
      '-c',
      tempConfig(
        `per_listener_settings true\nlistener 0 127.0.0.1\nallow_anonymous true\n\nlistener 0 127.0.0.1\nallow_anonymous false\npassword_file ${pwfile}\n`,
      ),
      '--no-mdns',
    ]);
    const ports = [
      ...(await running.waitFor(/MQTT\s+mqtt:\/\/[^:]+:(\d+)[\s\S]*MQTT\s+mqtt:\/\/[^:]+:(\d+)/)),
    ]
      .slice(1)
      .map(Number);
    expect(running.output()).toMatch(/Anonymous\s+per listener/);
    expect((await pub(ports[0]!, [])).code).toBe(0);
    expect((await pub(ports[1]!, [])).code).not.toBe(0);
    expect((await pub(ports[1]!, ['-u', 'blue', '-P', 'b'])).code).toBe(0);
  });

  it("a bind address that is not this machine's is one line, exit code 1", async () => {
    const r = await runCli(['up', '-p', '0', '--no-ws', '--host', '203.0.113.77', '--no-mdns']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/203\.0\.113\.77.*not an address of this machine/);
  });
});

function readFileOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
