// The broker the firmware tests run against: Mothership's own (`mothership up` as a real process,
// so stop is SIGTERM and kill is SIGKILL). FIRMWARE_BROKER=mosquitto runs them against Debian's
// mosquitto instead, for comparison; every test goes through startBroker().
import { cliArgs } from '../../helpers/cli.js';
import { launchMosquitto } from '../../helpers/mosquitto.js';

export { freePort, waitForPort } from '../../helpers/mosquitto.js';

export interface TestBroker {
  port: number;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL: no goodbye to anyone. */
  kill(): Promise<void>;
  /** Start again on the same port (after stop/kill). */
  restart(): Promise<void>;
  /** Stop for good and remove the generated files. */
  close(): Promise<void>;
}

/** `mothership up` on the launcher's port; undefined: mosquitto itself (FIRMWARE_BROKER=mosquitto). */
function brokerCommand(): ((conf: string, port: number) => [string, string[]]) | undefined {
  if (process.env.FIRMWARE_BROKER === 'mosquitto') return undefined;
  return (_conf, port) => [
    process.execPath,
    cliArgs(['up', '-p', String(port), '--host', '127.0.0.1', '--no-ws', '--no-mdns']),
  ];
}

/**
 * How long a broker may take to listen. `mothership up` from source (node + tsx) listens in ~0.6 s
 * on an idle machine but took over 5 s (the old limit) with three test files and their boards on
 * two cores; tls.test.ts already gives it 15 s. A crash fails at once (the launcher watches the
 * process), so this only bounds a hang.
 */
const START_GUARD_MS = 15_000;

export async function startBroker(): Promise<TestBroker> {
  const broker = await launchMosquitto({
    config: ['allow_anonymous true', 'persistence false'],
    command: brokerCommand(),
    startTimeoutMs: START_GUARD_MS,
    // stop() is a graceful shutdown the tests wait for, never cut short by a SIGKILL.
    stopTimeoutMs: 120_000,
  });
  return {
    port: broker.port,
    stop: broker.stop,
    kill: broker.kill,
    restart: broker.restart,
    close: broker.close,
  };
}
