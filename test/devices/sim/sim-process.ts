// `mothership sim` as a user runs it (bin/mothership.js on the built dist/), against a test broker,
// with its stdin open for fault commands.
import { type RunningCli, startCli } from '../../helpers/cli.js';

export interface SimProcess extends RunningCli {
  /** Types a command line on the sim's stdin. */
  type(line: string): void;
  /** Resolves with the first output line matching `re` that appeared after `from` characters. */
  after(from: number, re: RegExp, ms?: number): Promise<string>;
}

export function startSim(port: number, args: string[]): SimProcess {
  const cli = startCli(['sim', '-h', '127.0.0.1', '-p', String(port), ...args]);
  return {
    ...cli,
    type: (line) => cli.child.stdin!.write(`${line}\n`),
    async after(from, re, ms = 45_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = cli
          .output()
          .slice(from)
          .split('\n')
          .find((l) => re.test(l));
        if (hit) return hit;
        if (cli.child.exitCode !== null)
          throw new Error(`sim exited before ${re}:\n${cli.output().slice(-3000)}`);
        if (Date.now() > deadline)
          throw new Error(`sim printed no ${re} in ${ms} ms:\n${cli.output().slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
