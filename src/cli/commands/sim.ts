/** `mothership sim`: simulated boards running the real firmware (or light ones), against a broker. */
import { catchStopSignal } from '../../app/signals.js';
import type { SimBroker } from '../../devices/sim/board-config.js';
import { parseTimedCommand } from '../../devices/sim/commands.js';
import { Fleet } from '../../devices/sim/fleet.js';
import { fleetOf } from '../../devices/sim/kinds.js';
import { LightFleet } from '../../devices/sim/light/light-fleet.js';
import { Random } from '../../devices/sim/random.js';
import { intFlag, parseCommandArgs, usageError } from '../command-args.js';
import { mb, runFleetConsole, say } from '../fleet-console.js';
import { readCaFile } from '../read-ca.js';

const HELP = `Usage: mothership sim [options]

Simulated ESP32 boards, each running the unchanged firmware (firmware/) in its own MicroPython
interpreter, with simulated hardware (DHT22, button, LED, soil probe, watchdog), connected to a
broker over real TCP. Fault commands are read from stdin, one a line (type help).

Options:
  -h, --host HOST     broker host (default localhost)
  -p, --port N        broker port (default 1883, 8883 with --cafile)
  -u, --username U    MQTT user name
  -P, --pw PASSWORD   MQTT password
      --cafile FILE   TLS: verify the broker with this CA (PEM), as the firmware's "ca"
      --boards LIST   kinds and counts (default conversation,led-remote,mothership,dht):
                      conversation (machine1+machine2), led-remote (blue+green), mothership, dht;
                      e.g. dht:5,led-remote:2
      --seed N        replay the same curves, noise and schedules (default: random, printed)
      --qos 0|1       QoS of the apps' readings and messages (default 1)
      --fault S:CMD   run a command S seconds after the boards booted, e.g. 30:wifi-off dht1 10
                      (repeatable)
      --light         no interpreter: plain Node boards, same topics, payloads, rates and
                      reactions, for thousands of boards
      --fast          the firmware tests' timings (keepalive 2 s, backoff 0.2-2 s, watchdog 5 s)
      --calm          no spontaneous sensor unplugs
      --queue N       each board's QoS 1 outbox (default the firmware's 16)
      --duration S    stop after S seconds (light boards first deliver what they queued)
  -v, --verbose       print every board's serial output
      --help          this help
`;

const options = {
  host: { type: 'string', short: 'h' },
  port: { type: 'string', short: 'p' },
  username: { type: 'string', short: 'u' },
  pw: { type: 'string', short: 'P' },
  cafile: { type: 'string' },
  boards: { type: 'string' },
  seed: { type: 'string' },
  qos: { type: 'string' },
  fault: { type: 'string', multiple: true },
  light: { type: 'boolean' },
  fast: { type: 'boolean' },
  calm: { type: 'boolean' },
  queue: { type: 'string' },
  duration: { type: 'string' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean' },
} as const;

export const DEFAULT_BOARDS = 'conversation,led-remote,mothership,dht';
/** The firmware's serial lines worth showing without -v: the link and boot events. */
const NOTEWORTHY = /^(mqtt: (up|down|link lost)|board: |harness: WATCHDOG)/;

const readCa = (path: string) => readCaFile(path, '--cafile');

export async function run(args: string[]): Promise<number> {
  const v = parseCommandArgs('sim', args, options);
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const ca = v.cafile !== undefined ? readCa(v.cafile) : undefined;
  const broker: SimBroker = {
    host: v.host ?? 'localhost',
    port: intFlag('sim', '-p', v.port, 1, 65535) ?? (ca ? 8883 : 1883),
    ...(v.username !== undefined ? { user: v.username } : {}),
    ...(v.pw !== undefined ? { password: v.pw } : {}),
    ...(ca !== undefined ? { ca } : {}),
  };
  const qos = (intFlag('sim', '--qos', v.qos, 0, 1) ?? 1) as 0 | 1;
  const specs = fleetOf(v.boards ?? DEFAULT_BOARDS, qos);
  const seed = intFlag('sim', '--seed', v.seed, 0, 2 ** 32 - 1) ?? Math.floor(Math.random() * 2 ** 32);
  const queueMax = intFlag('sim', '--queue', v.queue, 1, 10_000);
  const duration = intFlag('sim', '--duration', v.duration, 1, 7 * 86_400);
  const timeline = (v.fault ?? []).map(parseTimedCommand);
  const bad = timeline.find((t) => 'error' in t.command);
  if (bad && 'error' in bad.command) throw usageError('sim', `--fault: ${bad.command.error}`);

  const verbose = v.verbose ?? false;
  const report = (board: string, text: string, serial: boolean) => {
    if (!serial || verbose || NOTEWORTHY.test(text)) say(`${board}: ${text}`);
  };
  const common = {
    specs,
    broker,
    fast: v.fast ?? false,
    rng: new Random(seed),
    calm: v.calm ?? false,
    report,
  };
  const mode = v.light ? 'light' : 'interpreter';
  // Before the first line: a signal sent once it speaks (or while boards boot) stops it cleanly.
  const stop = catchStopSignal();
  say(
    `mothership sim: ${specs.length} ${mode} boards -> ${broker.host}:${broker.port}${ca ? ' (TLS)' : ''}, seed ${seed}`,
  );
  const t0 = Date.now();
  const rss0 = process.memoryUsage().rss;
  const fleet = v.light
    ? new LightFleet({ ...common, ...(queueMax ? { queueMax } : {}) })
    : await Fleet.start({ ...common, ...(queueMax ? { queueMax } : {}) });
  if (!v.light) {
    const rss = process.memoryUsage().rss;
    say(
      `${specs.length} boards booted in ${((Date.now() - t0) / 1000).toFixed(1)} s; memory ${mb(rss)} MB (${mb((rss - rss0) / specs.length)} MB per board)`,
    );
  }
  await runFleetConsole(fleet, stop, { timeline, durationS: duration, since: t0 });
  if (fleet instanceof LightFleet) {
    await fleet.drain(10_000);
    say(`stats ${JSON.stringify(fleet.stats())}`);
  }
  await fleet.stop();
  say('stopped');
  return 0;
}
