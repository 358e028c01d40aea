/** `mothership demo`: `up` plus one simulated board of each seed kind, in one process. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo } from '../../app/demo.js';
import { catchStopSignal } from '../../app/signals.js';
import { COMMAND_HELP } from '../../devices/sim/commands.js';
import { runFleetConsole } from '../fleet-console.js';
import { upOptions } from './up.js';

const HELP = `Usage: mothership demo [up's options]

Starts the broker with its dashboard (as 'mothership up') and six simulated boards running the
real firmware, one of each seed kind: machine1 + machine2 (conversation), blue + green (led-remote),
mothership1 and dht1. Data goes to a temporary folder unless --data is given. Ctrl+C stops it all.
Fault and hardware commands are read from stdin, one a line (type help), as in 'mothership sim',
plus broker-restart [S]: the broker stops, stays down S seconds (default 0) and starts again.

Takes every option of 'mothership up' (-c, -p, --ws-port, --no-ws, --host, --data, --no-mdns, ...):
run 'mothership up --help' for them.
`;

const RESTART = /^\s*broker-restart(?:\s+([0-9]+(?:\.[0-9]+)?))?\s*$/;
const MAX_DOWN_S = 3600;

export async function run(args: string[]): Promise<number> {
  const t0 = Date.now();
  const data = args.includes('--data') ? undefined : mkdtempSync(join(tmpdir(), 'mothership-demo-'));
  const up = await upOptions(args, 'demo', data ? { dataDir: data } : {});
  if (!up) {
    process.stdout.write(HELP);
    return 0;
  }
  const out = up.logJson ? process.stderr : process.stdout;
  // Before anything starts: a signal sent once the banner is out (or during start-up) stops it cleanly.
  const stop = catchStopSignal();
  const demo = await startDemo({
    ...up.options,
    report: (board, text, serial) => {
      if (!serial) out.write(`${board}: ${text}\n`);
    },
  });
  out.write(demo.mothership.banner());
  out.write(`\n${demo.tryThis()}`);
  await runFleetConsole(demo.fleet, stop, {
    since: t0,
    extra(line) {
      if (line.trim() === 'help')
        return Promise.resolve(
          `${COMMAND_HELP}  broker-restart [S]    the broker stops, down S seconds, and starts again\n`,
        );
      if (!/^\s*broker-restart\b/.test(line)) return undefined;
      const m = RESTART.exec(line);
      const s = m?.[1] === undefined ? 0 : Number(m[1]);
      if (!m || s > MAX_DOWN_S)
        return Promise.resolve(`error: write broker-restart [SECONDS], 0 <= SECONDS <= ${MAX_DOWN_S}`);
      demo.mothership.log.info(
        { event: 'broker-restart', seconds: s },
        `Demo: restarting the broker (down ${s} s).`,
      );
      return demo.restartBroker(s * 1000).then(() => 'broker restarted');
    },
  });
  demo.mothership.log.info({ event: 'shutdown' }, 'Stopping the demo.');
  await demo.stop();
  return 0;
}
