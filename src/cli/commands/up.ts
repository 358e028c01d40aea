/** `mothership up`: parses its flags and starts everything through the composition root. */
import { cliInvocation } from '../../app/banner.js';
import { loadMothershipConfig } from '../../app/config-file.js';
import { type MothershipOptions, startMothership } from '../../app/mothership.js';
import { catchStopSignal, runUntilSignalled } from '../../app/signals.js';
import type { MothershipError } from '../../errors.js';
import { usageError as commandUsageError, parseCommandArgs } from '../command-args.js';

const HELP = `Usage: mothership up [options]

Starts the broker: MQTT on 1883 and MQTT over WebSocket (path /mqtt) on 8080, on every interface.
Anonymous clients are accepted from this machine and the local network only.

Options:
  -c, --config FILE   read a mosquitto.conf-style file (its listeners replace the defaults;
                      -p, --ws-port and --host are then an error, --no-ws a warning)
  -p, --port N        MQTT port (default 1883; 0 picks a free one)
      --ws-port N     WebSocket port (default 8080; 0 picks a free one)
      --no-ws         no WebSocket listener
      --host ADDR     listen on this address only (default: every interface)
      --data DIR      where persistent state lives (default ./mothership-data)
      --no-persistence  keep everything in memory only (as 'persistence false')
      --recover       if the database is damaged, move it aside and start with an empty one
      --no-mdns       do not announce the broker over mDNS
  -v, --verbose       log every MQTT packet in and out (as mosquitto -v), not only connections
      --log-json      JSON log lines (pino) instead of text
  -h, --help          this help
`;

export const upFlags = {
  help: { type: 'boolean', short: 'h' },
  config: { type: 'string', short: 'c' },
  port: { type: 'string', short: 'p' },
  'ws-port': { type: 'string' },
  'no-ws': { type: 'boolean' },
  host: { type: 'string' },
  data: { type: 'string' },
  'no-persistence': { type: 'boolean' },
  recover: { type: 'boolean' },
  'no-mdns': { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  'log-json': { type: 'boolean' },
} as const;

/** The flags that choose listeners: a config file that sets listeners conflicts with them. */
const listenerFlags = new Set(['-p', '--port', '--ws-port', '--no-ws', '--host']);

function usageError(message: string): MothershipError {
  return commandUsageError('up', message);
}

function portValue(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n > 65535)
    throw usageError(`${flag} needs a port number 0..65535, got '${value}'`);
  return n;
}

/** The listener flags given, in the order given. */
function given(args: string[]): string[] {
  return args.map((a) => a.split('=')[0]!).filter((a) => listenerFlags.has(a));
}

/**
 * `up`'s flags (shared by `demo`) as the composition root's options; undefined for --help.
 * `command` names the command in usage errors.
 */
export async function upOptions(
  args: string[],
  command = 'up',
  defaults: { dataDir?: string } = {},
): Promise<{ options: MothershipOptions; logJson: boolean } | undefined> {
  const values = parseCommandArgs(command, args, upFlags);
  if (values.help) return undefined;
  const port = portValue(args.includes('--port') ? '--port' : '-p', values.port);
  const wsPort = portValue('--ws-port', values['ws-port']);
  const config = values.config ? await loadMothershipConfig(values.config) : undefined;
  // A config's listeners replace the defaults, so -p & co would be silently ignored: say so instead.
  // --no-ws only asks for less, so it is a warning; the others an error.
  const conflicting = config?.listenersConfigured ? given(args) : [];
  const first = config?.listeners[0]?.source ?? values.config;
  if (conflicting.some((f) => f !== '--no-ws'))
    throw commandUsageError(
      command,
      `${conflicting.filter((f) => f !== '--no-ws').join(', ')} cannot be used with a config file that sets listeners (${first}): change the 'listener' lines in ${values.config} instead`,
    );
  const logJson = values['log-json'] ?? false;
  return {
    logJson,
    options: {
      ...(config ? { config } : {}),
      ...(values.config ? { configPath: values.config } : {}),
      port: port ?? 1883,
      wsPort: values['no-ws'] ? undefined : (wsPort ?? 8080),
      ...(values.host ? { host: values.host } : {}),
      dataDir: values.data ?? defaults.dataDir ?? './mothership-data',
      persistence: !values['no-persistence'],
      recover: values.recover ?? false,
      mdns: !values['no-mdns'],
      verbose: values.verbose ?? false,
      logFormat: logJson ? 'json' : 'text',
      warnings: conflicting.includes('--no-ws')
        ? [
            {
              event: 'flag-ignored',
              flag: '--no-ws',
              text: `--no-ws has no effect with a config file that sets listeners (${first}): the config's listeners are the ones that start`,
            },
          ]
        : [],
      invocation: cliInvocation(),
    },
  };
}

export async function run(args: string[]): Promise<number> {
  const up = await upOptions(args);
  if (!up) {
    process.stdout.write(HELP);
    return 0;
  }
  // Before anything starts: a SIGTERM sent once the banner is out (or during start-up) stops it cleanly.
  const stop = catchStopSignal();
  const mothership = await startMothership(up.options);
  // With --log-json stdout carries only JSON records; the banner is for people, on stderr.
  (up.logJson ? process.stderr : process.stdout).write(mothership.banner());
  return runUntilSignalled(mothership, stop);
}
