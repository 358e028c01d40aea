import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second for utime/stime in /proc/<pid>/stat (`getconf CLK_TCK`). */
export const CLK_TCK: number = (() => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a /proc stat line, in microseconds. */
function statCpuMicros(stat: string): number {
  // The command name may contain spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / CLK_TCK;
}

/** CPU time (user + system, all threads) a process has used so far, in microseconds. */
export function processCpuMicros(pid: number): number {
  return statCpuMicros(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** CPU time per thread of a process, in microseconds, by thread id. */
export function threadCpuMicros(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(Number(tid), statCpuMicros(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')));
    } catch {
      // the thread ended between listing and reading
    }
  }
  return out;
}

/**
 * CPU time a process has run so far, all its threads, in microseconds, to the nanosecond: the sum of
 * /proc/<pid>/task/<tid>/schedstat's first field (the scheduler's sum_exec_runtime). utime + stime
 * count 10 ms clock ticks, too coarse for a broker that works 40 times a second.
 */
export function processCpuMicrosPrecise(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between listing and reading
    }
  }
  return ns / 1000;
}

/** CPU time of a process's main thread (its event loop, for Node), in microseconds, to the nanosecond. */
export function mainThreadCpuMicrosPrecise(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
}

export interface MemoryKb {
  /** Resident set size now. */
  rssKb: number;
  /** Peak resident set size since the process started (VmHWM). */
  peakKb: number;
}

export function memoryKb(pid: number): MemoryKb {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) : Number.NaN;
  };
  return { rssKb: field('VmRSS'), peakKb: field('VmHWM') };
}

/** The soft and hard open-file limits of a process. */
export function nofileLimit(pid: number | 'self' = 'self'): { soft: number; hard: number } {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  const num = (s: string | undefined) => (s === undefined || s === 'unlimited' ? Infinity : Number(s));
  return { soft: num(m?.[1]), hard: num(m?.[2]) };
}

/**
 * Raises this process's soft open-file limit with prlimit(1) (Node cannot call setrlimit itself),
 * up to the hard limit (raising that needs CAP_SYS_RESOURCE, which a container may not have).
 * Returns the soft limit in force afterwards.
 */
export function raiseOwnNofile(wanted: number): number {
  const before = nofileLimit();
  if (before.soft >= wanted) return before.soft;
  const soft = Math.min(wanted, before.hard);
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${soft}:${before.hard}`], {
      stdio: 'ignore',
    });
  } catch {
    // not permitted: keep what we have, the caller reports it
  }
  return nofileLimit().soft;
}
