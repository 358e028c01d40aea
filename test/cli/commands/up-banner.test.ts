// What `mothership up` prints and logs: URLs with bracketed IPv6, the dashboard's URL that opens it, no LAN address for a loopback-only
// broker, a "Try it" line that runs as printed (with -u/-P when anonymous access is off), --log-json
// keeping stdout pure JSON, disconnect lines with address and protocol, -p never silently ignored.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningCli, runCli, startCli } from '../../helpers/cli.js';

const exec = promisify(execFile);
let running: RunningCli | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function tempConfig(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ms-banner-')), 'mosquitto.conf');
  writeFileSync(file, text);
  return file;
}

async function up(args: string[], cwd?: string): Promise<string> {
  running = startCli(['up', '--no-mdns', ...args], cwd);
  await running.waitFor(/Stop with Ctrl\+C/);
  return running.output();
}

/** Runs one command of the banner's "Try it" line through sh, as a person pasting it would. */
async function runPrinted(command: string, cwd: string): Promise<{ stdout: string; stderr: string }> {
  return exec('sh', ['-c', command], { cwd, env: { ...process.env, MOTHERSHIP_NO_MDNS: '1' } });
}

function tryIt(out: string): [string, string] {
  const m = out.match(/^Try it: {2}(.+ sub .+?) {5}(.+ pub .+)$/m);
  if (!m) throw new Error(`no Try it line in: ${out}`);
  return [m[1]!, m[2]!];
}

describe('mothership up: banner', () => {
  it('an IPv6 bind address is in brackets in URLs; a loopback-only broker does not send boards to a LAN address', async () => {
    const out = await up(['-p', '0', '--ws-port', '0', '--host', '::1']);
    expect(out).toMatch(/MQTT {7}mqtt:\/\/\[::1\]:\d+\n/);
    expect(out).toMatch(/WebSocket {2}ws:\/\/\[::1\]:\d+\/mqtt\n/);
    expect(out).not.toMatch(/On a board, set/);
    expect(out).toMatch(/Boards on the network cannot reach this broker: it listens on loopback only/);
    // The dashboard's URL, on the WebSocket port, opens the page.
    const dashboard = out.match(/^ {2}Dashboard {2}(http:\/\/\[::1\]:\d+\/)$/m)?.[1];
    expect(dashboard).toBeDefined();
    const page = await fetch(dashboard!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Mothership</title>');
  });

  it('a loopback-only config listener does not print a LAN address either', async () => {
    const out = await up(['-c', tempConfig('listener 0 127.0.0.1\nallow_anonymous true\n')]);
    expect(out).toMatch(/MQTT {7}mqtt:\/\/127\.0\.0\.1:\d+\n/);
    expect(out).not.toMatch(/On a board, set/);
  });

  it('the Try it line runs as printed: the pub reaches the sub', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ms-try-'));
    const out = await up(['-v', '-p', '0', '--no-ws', '--host', '127.0.0.1'], cwd);
    expect(out).not.toMatch(/Dashboard/); // no WebSocket port, no page
    const [sub, pub] = tryIt(out);
    expect(sub).not.toMatch(/-u /);
    const received = runPrinted(`${sub} -C 1 -W 15`, cwd);
    await running!.waitFor(/Received SUBSCRIBE from/);
    await runPrinted(pub, cwd);
    expect((await received).stdout).toBe('hello my name is blah\n');
  });

  it('with anonymous access off, the Try it line carries -u/-P and runs with them filled in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-try-'));
    const pw = join(dir, 'passwords');
    await exec('mosquitto_passwd', ['-b', '-c', pw, 'blue', 'bluepass']);
    const out = await up(['-v', '-c', tempConfig(`listener 0 127.0.0.1\npassword_file ${pw}\n`)], dir);
    const [sub, pub] = tryIt(out).map((c) => c.replace('USERNAME', 'blue').replace('PASSWORD', 'bluepass'));
    expect(tryIt(out)[0]).toMatch(/ -u USERNAME -P PASSWORD /);
    const received = runPrinted(`${sub} -C 1 -W 15`, dir);
    await running!.waitFor(/Received SUBSCRIBE from/);
    await runPrinted(pub!, dir);
    expect((await received).stdout).toBe('hello my name is blah\n');
  });

  it('--log-json: stdout is JSON records only; the banner goes to stderr', async () => {
    await up(['-p', '0', '--no-ws', '--host', '127.0.0.1', '--log-json']);
    const port = Number(running!.stderr().match(/mqtt:\/\/127\.0\.0\.1:(\d+)/)![1]);
    await exec('mosquitto_pub', ['-p', String(port), '-i', 'json-board', '-t', 't', '-m', 'x']);
    await running!.waitFor(/"event":"disconnect"/);
    const lines = running!
      .stdout()
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    const disconnect = lines.map((l) => JSON.parse(l)).find((r) => r.event === 'disconnect');
    expect(disconnect).toMatchObject({ clientId: 'json-board', address: '127.0.0.1', protocol: 4 });
    expect(running!.stderr()).toMatch(/Mothership is up/);
  });

  it('a disconnect line names the address and protocol', async () => {
    await up(['-p', '0', '--no-ws', '--host', '127.0.0.1']);
    const port = Number(running!.output().match(/mqtt:\/\/127\.0\.0\.1:(\d+)/)![1]);
    await exec('mosquitto_pub', ['-p', String(port), '-V', '5', '-i', 'board9', '-t', 't', '-m', 'x']);
    await running!.waitFor(/Client board9 from 127\.0\.0\.1 \(p5\) disconnected\./);
  });

  it('--no-ws with a config that has listeners is a warning, not silently ignored', async () => {
    const config = tempConfig('listener 0 127.0.0.1\nallow_anonymous true\n');
    const out = await up(['-c', config, '--no-ws']);
    expect(out).toContain(
      `Warning: --no-ws has no effect with a config file that sets listeners (${config}:1): the config's listeners are the ones that start`,
    );
  });

  it('-p with a config that has listeners is a usage error naming the listener, not ignored', async () => {
    const config = tempConfig('listener 0 127.0.0.1\nallow_anonymous true\n');
    const r = await runCli(['up', '-c', config, '-p', '1884', '--no-mdns']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `mothership up: -p cannot be used with a config file that sets listeners (${config}:1): change the 'listener' lines in ${config} instead`,
    );
  });
});
