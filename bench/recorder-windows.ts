/**
 * Inside the benchmark's broker (`BENCH_RECORDER_WINDOWS`): the history recorder detached and attached
 * again in turns of `windowMs`, and each window's CPU per message written to a file as one JSON line.
 * The same process, the same compiled code and the same neighbours on the machine in both states: a
 * window with the recorder is compared with the windows without it on either side (recorder-toggle.ts).
 */
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';

interface Publishes {
  on(event: 'publish', listener: () => void): unknown;
}
interface Recorder {
  attach(source: never): void;
  detach(): void;
}

/** One window as the broker measured it. */
export interface RecorderWindow {
  /** Whether the recorder was attached. */
  on: boolean;
  /** When the measured part began and ended (epoch ms). */
  start: number;
  end: number;
  /** CPU of all the process's threads, and of its main thread alone, in µs. */
  cpuMicros: number;
  mainMicros: number;
  /** Messages published to the broker in the measured part. */
  messages: number;
  /** Each thread's CPU (µs) by thread id: which thread a difference comes from. */
  threadMicros: Record<string, number>;
}

/** µs a thread has run (its schedstat: ns on the CPU); 0 once it has ended. */
function threadMicros(tid: string | number): number {
  try {
    return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1000;
  } catch {
    return 0;
  }
}

function everyThread(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const tid of readdirSync('/proc/self/task')) out[tid] = threadMicros(tid);
  return out;
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/**
 * Starts the turns: the first window has the recorder as the hub attached it. Each window's first
 * 30 % (at least 2 s) is left out: the commit of the second before the switch and the writer's wake-up
 * belong to the state before.
 */
export function toggleRecorder(
  broker: Publishes,
  recorder: Recorder,
  o: { file: string; windowMs: number },
): void {
  let messages = 0;
  broker.on('publish', () => {
    messages++;
  });
  const settleMs = Math.max(2000, o.windowMs * 0.3);
  let on = true;
  const window = () => {
    setTimeout(() => {
      const start = { at: Date.now(), cpu: cpuMicros(), threads: everyThread(), messages };
      setTimeout(() => {
        const line: RecorderWindow = {
          on,
          start: start.at,
          end: Date.now(),
          cpuMicros: cpuMicros() - start.cpu,
          mainMicros: 0,
          messages: messages - start.messages,
          threadMicros: {},
        };
        for (const [tid, us] of Object.entries(everyThread()))
          line.threadMicros[tid] = us - (start.threads[tid] ?? 0);
        line.mainMicros = line.threadMicros[process.pid] ?? 0;
        appendFileSync(o.file, `${JSON.stringify(line)}\n`);
        on = !on;
        if (on) recorder.attach(broker as never);
        else recorder.detach();
        window();
      }, o.windowMs - settleMs);
    }, settleMs);
  };
  window();
}
