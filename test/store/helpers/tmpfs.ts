import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real, small disk for full-disk tests: a tmpfs mounted for one test file (needs root or
 * CAP_SYS_ADMIN). Where it cannot be mounted, `problem` says why so the file can skip loudly.
 */
export interface Tmpfs {
  mountPoint: string;
  problem: string | undefined;
  /** Fills the disk to the last byte with one file; returns its path (delete it to free the space). */
  fill(): string;
  unmount(): void;
}

export function mountTmpfs(size: string, label: string): Tmpfs {
  const mountPoint = mkdtempSync(join(tmpdir(), `ms-${label}-`));
  let problem: string | undefined;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mountPoint], {
      stdio: 'pipe',
      timeout: 5000,
    });
  } catch (err) {
    problem = ((err as { stderr?: Buffer }).stderr?.toString() || (err as Error).message)
      .trim()
      .split('\n')[0]!;
    console.warn(`${label} test SKIPPED: cannot mount a ${size} tmpfs at ${mountPoint}: ${problem}`);
  }
  return {
    mountPoint,
    problem,
    fill() {
      const path = join(mountPoint, 'filler');
      const fd = openSync(path, 'w');
      try {
        // Big writes first, then smaller, down to single bytes: the disk ends with 0 blocks free.
        for (const size of [64 * 1024, 4096, 512, 1]) {
          const chunk = Buffer.alloc(size, 0x5a);
          for (let i = 0; i < 100_000; i++) {
            try {
              writeSync(fd, chunk);
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
              throw err;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
      return path;
    },
    unmount() {
      if (!problem) {
        try {
          execFileSync('umount', [mountPoint], { stdio: 'pipe', timeout: 5000 });
        } catch {
          execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe', timeout: 5000 });
        }
      }
      rmdirSync(mountPoint);
    },
  };
}
