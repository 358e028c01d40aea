import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, HOST, spawnBroker } from './spawn.js';
import type { BrokerLauncher, BrokerStartOptions, RunningBroker } from './types.js';

export const MOSQUITTO = '/usr/sbin/mosquitto';

/**
 * The generated mosquitto.conf: one loopback listener, no limits that would drop messages in the
 * scenarios (queues large enough, connections unlimited), and no logging (aedes and Mothership
 * do not log per connection either).
 */
export function mosquittoConfig(
  port: number,
  options: BrokerStartOptions,
  dataDir: string,
  extra: string[] = [],
): string {
  return [
    'per_listener_settings false',
    'allow_anonymous true',
    `listener ${port} ${HOST}`,
    'max_connections -1',
    'max_queued_messages 1000000',
    'max_inflight_messages 20',
    options.persistence ? 'persistence true' : 'persistence false',
    ...(options.persistence ? [`persistence_location ${dataDir}/`, 'autosave_interval 1800'] : []),
    'log_dest none',
    'connection_messages false',
    ...extra,
    ...(options.bridgeConfig ?? []),
    '',
  ].join('\n');
}

export function mosquittoVersion(): string | null {
  try {
    const out = execFileSync(MOSQUITTO, ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return /mosquitto version (\S+)/.exec(out)?.[1] ?? null;
  } catch (e) {
    // `mosquitto -h` exits non-zero on some versions but still prints the version.
    const out = String((e as { stdout?: string }).stdout ?? '');
    return /mosquitto version (\S+)/.exec(out)?.[1] ?? null;
  }
}

function mosquittoLauncher(name: string, extra: string[]): BrokerLauncher {
  return {
    name,
    async unavailable() {
      return existsSync(MOSQUITTO) ? null : `${MOSQUITTO} is not installed (apt-get install mosquitto)`;
    },
    async start(options): Promise<RunningBroker> {
      const dir = mkdtempSync(join(tmpdir(), 'bench-mosquitto-'));
      chmodSync(dir, 0o777); // mosquitto drops to its own user when started as root
      const port = await freePort();
      const conf = join(dir, 'mosquitto.conf');
      writeFileSync(conf, mosquittoConfig(port, options, dir, extra), { mode: 0o644 });
      return spawnBroker({
        name,
        command: MOSQUITTO,
        args: ['-c', conf],
        port,
        onStop: () => rmSync(dir, { recursive: true, force: true }),
      });
    },
  };
}

export const mosquitto = mosquittoLauncher('mosquitto', []);
/** mosquitto with Nagle's algorithm off (`set_tcp_nodelay true`): `--only mosquitto-nodelay`. */
export const mosquittoNodelay = mosquittoLauncher('mosquitto-nodelay', ['set_tcp_nodelay true']);
