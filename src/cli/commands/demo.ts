/** `mothership demo`: `up` plus one simulated board of each seed kind, in one process. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo } from '../../app/demo.js';
import { upOptions } from './up.js';

const HELP = `Usage: mothership demo [up's options]

Starts the broker with its dashboard (as 'mothership up') and six simulated boards running the
real firmware, one of each seed kind: machine1 + machine2 (conversation), blue + green (led-remote),
mothership1 and dht1. Data goes to a temporary folder unless --data is given. Ctrl+C stops it all.

Takes every option of 'mothership up' (-c, -p, --ws-port, --no-ws, --host, --data, --no-mdns, ...):
run 'mothership up --help' for them.
`;

export async function run(args: string[]): Promise<number> {
  const data = args.includes('--data') ? undefined : mkdtempSync(join(tmpdir(), 'mothership-demo-'));
  const up = await upOptions(args, 'demo', data ? { dataDir: data } : {});
  if (!up) {
    process.stdout.write(HELP);
    return 0;
  }
  const out = up.logJson ? process.stderr : process.stdout;
  const demo = await startDemo({
    ...up.options,
    report: (board, text, serial) => {
      if (!serial) out.write(`${board}: ${text}\n`);
    },
  });
  out.write(demo.mothership.banner());
  out.write(`\n${demo.tryThis()}`);
  return await new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      demo.mothership.log.info({ event: 'shutdown', signal }, `Received ${signal}, stopping the demo.`);
      demo.stop().then(() => resolve(0));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
