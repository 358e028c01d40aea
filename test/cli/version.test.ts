// The version comes from package.json alone: a copy of the built package with another version in its
// package.json reports that version everywhere (--version, pub/sub usage, $SYS/broker/version).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const VERSION = '9.8.7-versiontest';
let copy: string;

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'ms-version-'));
  cpSync(join(root, 'bin'), join(copy, 'bin'), { recursive: true });
  cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(copy, 'package.json'), JSON.stringify({ ...pkg, version: VERSION }));
});

async function cli(args: string[]): Promise<string> {
  const r = await exec(process.execPath, [join(copy, 'bin', 'mothership.js'), ...args]).catch(
    (e: { stdout: string }) => e,
  );
  return r.stdout;
}

let broker: ChildProcess | undefined;
afterEach(() => broker?.kill('SIGKILL'));

describe('the version string', () => {
  it('mothership --version and the pub/sub usage carry package.json version', async () => {
    expect(await cli(['--version'])).toBe(`mothership ${VERSION}\n`);
    expect(await cli(['pub', '--help'])).toContain(
      `mothership pub version ${VERSION} (mosquitto_pub compatible)`,
    );
    expect(await cli(['sub', '--help'])).toContain(
      `mothership sub version ${VERSION} (mosquitto_sub compatible)`,
    );
  });

  it('$SYS/broker/version carries it too', async () => {
    const conf = join(copy, 'mosquitto.conf');
    writeFileSync(conf, 'listener 0 127.0.0.1\nallow_anonymous true\npersistence false\nsys_interval 1\n');
    broker = spawn(process.execPath, [join(copy, 'bin', 'mothership.js'), 'up', '-c', conf, '--no-mdns'], {
      cwd: copy,
      env: { ...process.env, MOTHERSHIP_NO_MDNS: '1' },
    });
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      broker!.stdout!.on('data', (d) => {
        out += d;
        const m = out.match(/mqtt:\/\/127\.0\.0\.1:(\d+)/);
        if (m) resolve(Number(m[1]));
      });
      broker!.on('exit', () => reject(new Error(`up exited: ${out}`)));
    });
    const r = await exec('mosquitto_sub', [
      '-p',
      String(port),
      '-t',
      '$SYS/broker/version',
      '-C',
      '1',
      '-W',
      '15',
    ]);
    expect(r.stdout).toBe(`mothership ${VERSION}\n`);
  });
});
