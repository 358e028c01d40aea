import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { cliArgs } from '../helpers/cli.js';
import { cleanupScratch, freePort, scratch, startUp, stopGracefully } from '../store/helpers/up-process.js';

afterAll(cleanupScratch);

/**
 * Runs `mothership <args>` and sends SIGTERM in the same turn as the output first matches `ready`,
 * the way a supervisor that waits for the banner does; resolves with how the process ended.
 */
function signalAtFirstWord(
  args: string[],
  ready: RegExp,
): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs(args), {
      cwd: scratch('ms-signal-cwd-'),
      env: { ...process.env, MOTHERSHIP_NO_MDNS: '1' },
    });
    let out = '';
    let sent = false;
    const read = (d: Buffer) => {
      out += d;
      if (!sent && ready.test(out)) {
        sent = true;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    const bound = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running 60 s after SIGTERM: ${out}`));
    }, 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(bound);
      resolve({ code, signal, out });
    });
  });
}

describe('a SIGTERM sent the moment a command says it is up', () => {
  // Before the fix about half of these ended by the signal itself (code null, SIGTERM): the listener
  // was installed after the banner was written, and Node's default for an unheard SIGTERM is to die.
  it('stops `mothership up` gracefully, every time', async () => {
    for (let round = 0; round < 6; round++) {
      const port = await freePort();
      const args = [
        'up',
        '-p',
        String(port),
        '--host',
        '127.0.0.1',
        '--no-ws',
        '--no-mdns',
        '--data',
        scratch(),
      ];
      const r = await signalAtFirstWord(args, /Mothership is up/);
      expect({ round, code: r.code, signal: r.signal }).toEqual({ round, code: 0, signal: null });
      expect(r.out).toContain('Received SIGTERM, shutting down.');
    }
  }, 120_000);

  it('stops `mothership sim` gracefully at its first line', async () => {
    const port = await freePort();
    const up = await startUp(port, scratch());
    try {
      for (let round = 0; round < 3; round++) {
        const r = await signalAtFirstWord(
          ['sim', '--light', '--boards', 'dht', '-h', '127.0.0.1', '-p', String(port)],
          /mothership sim: /,
        );
        expect({ round, code: r.code, signal: r.signal }).toEqual({ round, code: 0, signal: null });
        expect(r.out).toMatch(/stopped\n$/);
      }
    } finally {
      expect(await stopGracefully(up)).toBe(0);
    }
  }, 120_000);
});
