/**
 * `mothership demo`: the seeds' whole world on one machine: a broker with its hub, and one simulated
 * board of each seed kind (machine1 + machine2, blue + green, mothership1, dht1), each running the
 * unchanged firmware in its own MicroPython interpreter, connected over real TCP.
 */
import { Fleet } from '../devices/sim/fleet.js';
import { fleetOf } from '../devices/sim/kinds.js';
import { Random } from '../devices/sim/random.js';
import { ErrorCodes, MothershipError } from '../errors.js';
import { type Mothership, type MothershipOptions, startMothership } from './mothership.js';

export const DEMO_BOARDS = 'conversation,led-remote,mothership,dht';

export interface Demo {
  /** The running broker and hub (a new one after restartBroker). */
  readonly mothership: Mothership;
  fleet: Fleet;
  /**
   * Stops the broker (clients get its shutdown DISCONNECT, sessions and history are saved), keeps
   * it down for `downMs`, then starts it again on the same ports with the same data: a fault the
   * boards must recover from by themselves.
   */
  restartBroker(downMs?: number): Promise<void>;
  /** What to try, printed under the banner. */
  tryThis(): string;
  stop(): Promise<void>;
}

export interface DemoOptions extends MothershipOptions {
  /** Kinds and counts, as `mothership sim --boards` (default one of each seed kind). */
  boards?: string;
  seed?: number;
  /** Board serial lines worth showing; default none. */
  report?: (board: string, text: string, serial: boolean) => void;
}

export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  let mothership = await startMothership(options);
  const mqtt = mothership.listeners.find((l) => l.protocol === 'mqtt' && !l.tls);
  if (!mqtt) {
    await mothership.stop();
    throw new MothershipError(
      ErrorCodes.USAGE,
      "the demo's boards need a plain (non-TLS) MQTT listener, and the config sets none: add 'listener 1883'",
    );
  }
  // The boards reach the broker over loopback: the demo works with no network at all.
  const host = mqtt.host && mqtt.host !== '0.0.0.0' && mqtt.host !== '::' ? mqtt.host : '127.0.0.1';
  let fleet: Fleet;
  try {
    fleet = await Fleet.start({
      specs: fleetOf(options.boards ?? DEMO_BOARDS, 1),
      broker: { host, port: mqtt.port },
      fast: false,
      rng: new Random(options.seed ?? Math.floor(Math.random() * 2 ** 32)),
      calm: false,
      report: options.report ?? (() => {}),
    });
  } catch (err) {
    await mothership.stop();
    throw err;
  }
  const port = mqtt.port === 1883 ? '' : ` -p ${mqtt.port}`;
  const ws = mothership.listeners.find((l) => l.protocol === 'websockets' && !l.tls);
  // A restart listens where the first start did, even on ports -p 0 picked (a config's listeners
  // are its own: they start as written again).
  const again: MothershipOptions = { ...options, port: mqtt.port, wsPort: ws?.port };
  let stopping: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;
  return {
    get mothership() {
      return mothership;
    },
    fleet,
    restartBroker(downMs = 0) {
      restarting ??= (async () => {
        try {
          await mothership.stop();
          await new Promise((r) => setTimeout(r, downMs));
          if (!stopping) mothership = await startMothership(again);
        } finally {
          restarting = undefined;
        }
      })();
      return restarting;
    },
    tryThis: () =>
      [
        `Demo: ${fleet.boards.length} simulated boards (${fleet.boards.map((b) => b.name).join(', ')}) running the real firmware.`,
        ...(ws ? [`  Open   http://localhost:${ws.port}/  to see and control them.`] : []),
        `  Watch  mosquitto_sub${port} -v -t 'blue/btn/0'          (blue's button, seed 002)`,
        `  Light  mosquitto_pub${port} -t output -m on -q 1         (dht1's LED, seed 004)`,
        `  Read   mosquitto_sub${port} -v -t testincr               (dht1's t=..C, h=..%. readings)`,
        '  Type   press blue 3 | wifi-off all 10 | broker-restart 5 | help   (here: faults, buttons)',
        '',
      ].join('\n'),
    stop() {
      stopping ??= (async () => {
        await restarting?.catch(() => {});
        await fleet.stop();
        await mothership.stop();
      })();
      return stopping;
    },
  };
}
