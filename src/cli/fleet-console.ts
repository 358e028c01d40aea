/**
 * The console of `mothership sim` and `mothership demo`: fault commands typed on stdin or given on
 * a --fault timeline, answered on stdout, and a line each time the whole fleet is online again
 * (with how long it took), until a signal or the --duration.
 */
import { createInterface } from 'node:readline';
import { type Command, parseCommand } from '../devices/sim/commands.js';
import type { FleetControl, SimulatedBoard } from '../devices/sim/fleet-control.js';

export const clock = () => new Date().toTimeString().slice(0, 8);
export const say = (text: string) => process.stdout.write(`${clock()} ${text}\n`);
export const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

export interface ConsoleOptions {
  timeline?: { atMs: number; line: string; command: Command }[];
  durationS?: number | undefined;
  /** A command of the caller's own (the demo's broker-restart): its answer, or undefined if not one. */
  extra?(line: string): Promise<string> | undefined;
  /** When the boards were started, for the first all-online line (default now). */
  since?: number;
}

/**
 * Runs until the stop signal (which the caller caught before starting anything) or the duration;
 * the caller stops the fleet afterwards.
 */
export async function runFleetConsole(
  fleet: FleetControl<SimulatedBoard>,
  stopSignal: Promise<NodeJS.Signals>,
  o: ConsoleOptions = {},
): Promise<void> {
  const timers: NodeJS.Timeout[] = [];
  const answer = async (line: string, c: Command | undefined) => {
    const own = o.extra?.(line);
    const out = own ? await own.catch((e: Error) => `error: ${e.message}`) : c && (await fleet.apply(c));
    if (out) process.stdout.write(out.endsWith('\n') ? out : `${clock()} ${out}\n`);
  };
  for (const t of o.timeline ?? []) timers.push(setTimeout(() => void answer(t.line, t.command), t.atMs));
  // Announce each time the whole fleet is online again (at start, after every fault), and how long
  // since some board was last seen offline: the recovery time.
  let all = false;
  let down = o.since ?? Date.now();
  timers.push(
    setInterval(() => {
      const now = fleet.online === fleet.boards.length;
      if (now && !all)
        say(
          `all ${fleet.boards.length} boards online in ${((Date.now() - down) / 1000).toFixed(1)} s (memory ${mb(process.memoryUsage().rss)} MB)`,
        );
      if (!now && all) down = Date.now();
      all = now;
    }, 200),
  );
  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => void answer(line, parseCommand(line)));
  await new Promise<void>((resolve) => {
    void stopSignal.then(() => resolve());
    if (o.durationS !== undefined) timers.push(setTimeout(resolve, o.durationS * 1000));
  });
  for (const t of timers) clearTimeout(t);
  rl.close();
}
