// With acl_file, SUBSCRIBE is granted by default (mosquitto 2 filters at delivery); the opt-in
// `check_subscribe_acl true` refuses a filter no read rule could ever match: 0x87 (v5), 0x80 (3.1.1).
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningCli, startCli } from '../../helpers/cli.js';

const exec = promisify(execFile);
let running: RunningCli | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function upWithAcl(extra: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'ms-subacl-'));
  const pw = join(dir, 'passwords');
  await exec('mosquitto_passwd', ['-b', '-c', pw, 'blue', 'b']);
  writeFileSync(join(dir, 'acl'), 'user blue\ntopic read blue/#\ntopic write green/led\n');
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    `listener 0 127.0.0.1\nallow_anonymous false\npassword_file ${pw}\nacl_file ${join(dir, 'acl')}\n${extra}`,
  );
  running = startCli(['up', '-c', conf, '--no-mdns']);
  return Number((await running.waitFor(/MQTT\s+mqtt:\/\/[^:]+:(\d+)/))[1]);
}

/** mosquitto_sub -d -E: the SUBACK's codes for green/# (write-only), blue/led, +/led, in that order. */
async function granted(port: number, version: 'mqttv5' | 'mqttv311'): Promise<string> {
  const r = await exec('mosquitto_sub', [
    ...['-d', '-E', '-V', version, '-p', String(port), '-u', 'blue', '-P', 'b'],
    ...['-t', 'green/#', '-t', 'blue/led', '-t', '+/led'],
  ]);
  const m = r.stdout.match(/Subscribed \(mid: \d+\): (.*)/);
  if (!m) throw new Error(`no SUBACK line: ${r.stdout}${r.stderr}`);
  return m[1]!;
}

describe('SUBSCRIBE and the ACL under mothership up -c', () => {
  it('by default every filter is granted, as mosquitto 2', async () => {
    const port = await upWithAcl('');
    expect(await granted(port, 'mqttv5')).toBe('0, 0, 0');
  });

  it('check_subscribe_acl true refuses a filter no read rule can match: 135 (v5) and 128 (3.1.1)', async () => {
    const port = await upWithAcl('check_subscribe_acl true\n');
    expect(await granted(port, 'mqttv5')).toBe('135, 0, 0');
    expect(await granted(port, 'mqttv311')).toBe('128, 0, 0');
  });
});
