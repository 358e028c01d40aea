import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, tempDir } from './helpers.js';

afterEach(cleanup);

const here = dirname(fileURLToPath(import.meta.url));

describe('an awaited flush', () => {
  it('keeps the process alive until it settles, even when it comes while a timed commit is waiting', async () => {
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(here, 'flush-alive-child.ts'), tempDir()],
        { cwd: join(here, '..', '..', '..'), timeout: 60_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
    // Before the fix the process ended with the first such flush unsettled (exit code 13, no output).
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe('flushed 20\n');
  }, 90_000);
});
