import type { Logger } from 'pino';
import { banner, cliInvocation } from '../../app/banner.js';
import { createBrokerAccess } from '../../app/listener-access.js';
import { createLogger, levelFor, logOutputs } from '../../app/logger.js';
import { describePacket } from '../../app/packet-log.js';
import type { DurabilityPolicy } from '../../broker/ports/persistence.js';
import type { ClientInfo, DisconnectReason } from '../../broker/types.js';
import { type LoadedConfig, loadConfig } from '../../config/mosquitto-conf.js';
import { ErrorCodes, MothershipError } from '../../errors.js';
import { Broker } from '../../index.js';
import { openSqliteStore, type SqliteStore } from '../../store/index.js';
import type { Listener, ListenOptions } from '../../transport/listen-options.js';
import { type Advertisement, advertiseBroker } from '../../transport/mdns.js';

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

export interface UpFlags {
  config?: string;
  port: number;
  wsPort: number | undefined;
  host?: string;
  data: string;
  persistence: boolean;
  recover: boolean;
  mdns: boolean;
  verbose: boolean;
  logJson: boolean;
  /** Listener flags given (-p, --ws-port, --no-ws, --host): a config with listeners conflicts with them. */
  listenerFlags: string[];
}

function usageError(message: string): MothershipError {
  return new MothershipError(ErrorCodes.USAGE, `${message}\nRun 'mothership up --help' for the options.`);
}

function portValue(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 0 || n > 65535)
    throw usageError(`${flag} needs a port number 0..65535, got '${value ?? ''}'`);
  return n;
}

export function parseUpFlags(args: string[]): UpFlags | 'help' {
  const flags: UpFlags = {
    port: 1883,
    wsPort: 8080,
    data: './mothership-data',
    persistence: true,
    recover: false,
    mdns: true,
    verbose: false,
    logJson: false,
    listenerFlags: [],
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw usageError(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '-h':
      case '--help':
        return 'help';
      case '-c':
      case '--config':
        flags.config = value();
        break;
      case '-p':
      case '--port':
        flags.port = portValue(arg, value());
        flags.listenerFlags.push(arg);
        break;
      case '--ws-port':
        flags.wsPort = portValue(arg, value());
        flags.listenerFlags.push(arg);
        break;
      case '--no-ws':
        flags.wsPort = undefined;
        flags.listenerFlags.push(arg);
        break;
      case '--host':
        flags.host = value();
        flags.listenerFlags.push(arg);
        break;
      case '--data':
        flags.data = value();
        break;
      case '--no-persistence':
        flags.persistence = false;
        break;
      case '--recover':
        flags.recover = true;
        break;
      case '--no-mdns':
        flags.mdns = false;
        break;
      case '-v':
      case '--verbose':
        flags.verbose = true;
        break;
      case '--log-json':
        flags.logJson = true;
        break;
      default:
        throw usageError(`unknown option '${arg}'`);
    }
  }
  return flags;
}

/** mosquitto's protocol tags in its connect log line: p1 = 3.1, p2 = 3.1.1, p5 = 5.0. */
function protocolTag(v: 3 | 4 | 5): string {
  return v === 3 ? 'p1' : v === 4 ? 'p2' : 'p5';
}

const disconnectWords: Record<DisconnectReason, string> = {
  normal: 'disconnected',
  'normal-with-will': 'disconnected (with will)',
  'client-closed': 'closed its connection',
  'keepalive-timeout': 'has exceeded timeout, disconnecting',
  'taken-over': 'already connected, closing old connection',
  'protocol-error': 'disconnected: protocol error',
  'malformed-packet': 'disconnected: malformed packet',
  'packet-too-large': 'disconnected: packet too large',
  'not-authorized': 'disconnected: not authorized',
  'slow-consumer': 'disconnected: not reading (send buffer full)',
  'server-shutting-down': 'disconnected: broker shutting down',
  'store-failing': 'disconnected: the store cannot write (disk full or failing), message refused',
  'socket-error': 'disconnected: socket error',
};

function logClients(broker: Broker, log: Logger, verbose: boolean): void {
  broker.on('client-connect', (c: ClientInfo) => {
    const user = c.username ? `, u'${c.username}'` : '';
    log.info(
      {
        event: 'connect',
        clientId: c.clientId,
        address: c.remoteAddress,
        protocol: c.protocolVersion,
        listener: c.listener,
      },
      `New client connected from ${c.remoteAddress} as ${c.clientId} (${protocolTag(c.protocolVersion)}, c${c.cleanStart ? 1 : 0}, k${c.keepalive}${user}).`,
    );
  });
  broker.on('client-disconnect', (c, reason) => {
    log.info(
      {
        event: 'disconnect',
        clientId: c.clientId,
        address: c.remoteAddress,
        protocol: c.protocolVersion,
        listener: c.listener,
        reason,
      },
      `Client ${c.clientId} from ${c.remoteAddress} (${protocolTag(c.protocolVersion)}) ${disconnectWords[reason]}.`,
    );
  });
  broker.on('connect-refused', (a) => {
    log.info(
      { event: 'connect-refused', clientId: a.clientId, address: a.remoteAddress, reason: a.reason },
      `Refused client ${a.clientId || '(empty id)'} from ${a.remoteAddress}: ${a.reason}.`,
    );
  });
  if (!verbose) return;
  broker.on('packet', (direction, clientId, packet) => {
    log.debug(
      { event: 'packet', direction, clientId, cmd: packet.cmd },
      describePacket(direction, clientId, packet),
    );
  });
}

/**
 * Behind a reverse proxy on this host every WebSocket client arrives from loopback, so the LAN rule
 * would let in anyone the proxy forwards. Said once per listener, at the first proxied request.
 */
function warnProxiedOnce(log: Logger, port: number): ListenOptions['onProxiedRequest'] {
  let warned = false;
  return (request) => {
    if (warned) return;
    warned = true;
    log.warn(
      { event: 'proxied-request', address: request.remoteAddress, header: request.header },
      `WebSocket listener on port ${port} got a request through a reverse proxy (${request.header}, from ${request.remoteAddress}): every client it forwards looks local, so the LAN rule lets them in anonymously. Set 'allow_anonymous false' and use passwords (docs/config.md, Reverse proxies).`,
    );
  };
}

function durabilityPolicy(config: LoadedConfig | undefined): DurabilityPolicy {
  switch (config?.durability) {
    case 'every-message':
      return { mode: 'every-message' };
    case 'periodic':
      return { mode: 'periodic', intervalSeconds: config.autosaveInterval || 1800 };
    default:
      return { mode: 'grouped', maxDelayMs: config?.commitDelayMs ?? 2 };
  }
}

/** SQLite in the data folder unless persistence is off; a damaged file stops the start unless --recover. */
function openStore(flags: UpFlags, config: LoadedConfig | undefined, log: Logger): SqliteStore | undefined {
  if (config?.persistence === false) flags.persistence = false;
  if (!flags.persistence) return undefined;
  const dir = config?.persistenceLocation ?? flags.data;
  const store = openSqliteStore({
    dir,
    policy: durabilityPolicy(config),
    onCorrupt: flags.recover ? 'move-aside' : 'fail',
    recoverHint:
      'Start again with --recover to move it aside (renamed, never deleted) and begin with an empty ' +
      'database; see docs/persistence.md.',
    // Once per episode: QoS 1/2 publishes are refused until the writes, retried every second, succeed.
    onError: (err) => log.error({ event: 'store-error', code: err.code }, `${err.message} [${err.code}]`),
    onRecovered: (ms) =>
      log.warn(
        { event: 'store-recovered', failedForMs: ms },
        `The store writes again after ${(ms / 1000).toFixed(1)} s; everything held back is on disk.`,
      ),
  });
  if (store.movedAside)
    log.warn(
      { event: 'store-moved-aside', file: store.movedAside },
      `The damaged database was moved to ${store.movedAside}; starting with an empty one.`,
    );
  flags.data = dir;
  return store;
}

/**
 * A config file's listeners replace the defaults (as in mosquitto); without any, MQTT and WebSocket
 * on the flags' ports.
 */
function listenersWanted(flags: UpFlags, config: LoadedConfig | undefined): ListenOptions[] {
  if (config?.listenersConfigured) {
    return config.listeners.map((l) => ({
      port: l.port,
      protocol: l.protocol,
      ...(l.bindAddress ? { host: l.bindAddress } : {}),
      ...(l.tls ? { tls: l.tls } : {}),
    }));
  }
  const host = flags.host ? { host: flags.host } : {};
  const wanted: ListenOptions[] = [{ port: flags.port, ...host }];
  if (flags.wsPort !== undefined) wanted.push({ port: flags.wsPort, protocol: 'websockets', ...host });
  return wanted;
}

export async function run(args: string[]): Promise<number> {
  const flags = parseUpFlags(args);
  if (flags === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const config = flags.config ? await loadConfig(flags.config) : undefined;
  // A config's listeners replace the defaults, so -p & co would be silently ignored: say so instead.
  // --no-ws only asks for less, so it is a warning (after the logger exists); the others an error.
  const conflicting = config?.listenersConfigured ? flags.listenerFlags : [];
  const first = config?.listeners[0]?.source ?? flags.config;
  if (conflicting.some((f) => f !== '--no-ws'))
    throw usageError(
      `${conflicting.filter((f) => f !== '--no-ws').join(', ')} cannot be used with a config file that sets listeners (${first}): change the 'listener' lines in ${flags.config} instead`,
    );
  const { outs, unsupported } = logOutputs(config?.log.dest ?? []);
  const log = createLogger({
    format: flags.logJson ? 'json' : 'text',
    level: levelFor(config?.log.types ?? [], flags.verbose),
    outs,
  });
  for (const warning of config?.warnings ?? []) log.warn({ event: 'config-warning' }, warning);
  if (conflicting.includes('--no-ws'))
    log.warn(
      { event: 'flag-ignored', flag: '--no-ws' },
      `--no-ws has no effect with a config file that sets listeners (${first}): the config's listeners are the ones that start`,
    );
  for (const dest of unsupported)
    log.warn({ event: 'config-warning' }, `log_dest ${dest} is not supported yet; logging to stdout instead`);
  const access = await createBrokerAccess(config);
  const store = openStore(flags, config, log);
  const broker = new Broker({
    ...config?.broker,
    authenticator: access,
    authorizer: access,
    persistence: store,
  });
  logClients(broker, log, flags.verbose);
  if (config?.mdns === false) flags.mdns = false;

  const listeners: Listener[] = [];
  try {
    for (const [i, w] of listenersWanted(flags, config).entries()) {
      const rule =
        access.anonymous.policy === 'per-listener' ? access.anonymous.perListener[i] : access.anonymous;
      if (w.protocol === 'websockets' && rule?.policy === 'lan')
        w.onProxiedRequest = warnProxiedOnce(log, w.port);
      listeners.push(await broker.listen(w));
    }
  } catch (err) {
    await broker.close();
    throw err;
  }
  access.attachListeners(listeners.map((l) => l.name));
  // Tests and benchmarks set MOTHERSHIP_NO_MDNS so no multicast ever leaves the machine.
  if (process.env.MOTHERSHIP_NO_MDNS === '1') flags.mdns = false;
  let advertisement: Advertisement | undefined;
  const mqttListener = listeners.find((l) => l.protocol === 'mqtt');
  if (flags.mdns && mqttListener) {
    const ws = listeners.find((l) => l.protocol === 'websockets' && !l.tls);
    try {
      advertisement = await advertiseBroker({
        port: mqttListener.port,
        tls: mqttListener.tls,
        ...(ws ? { wsPort: ws.port } : {}),
      });
    } catch (err) {
      // A machine without multicast still runs the broker; boards then need its address.
      log.warn(
        { event: 'mdns-failed', err: (err as Error).message },
        `mDNS announcement failed: ${(err as Error).message}`,
      );
      flags.mdns = false;
    }
  }
  // With --log-json stdout carries only JSON records; the banner is for people, on stderr.
  (flags.logJson ? process.stderr : process.stdout).write(
    banner({
      listeners,
      anonymous: access.anonymous,
      config: flags.config,
      data: flags.persistence ? flags.data : undefined,
      mdns: flags.mdns,
      invocation: cliInvocation(),
    }),
  );

  return await new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ event: 'shutdown', signal }, `Received ${signal}, shutting down.`);
      const goodbye = advertisement?.stop().catch(() => {}) ?? Promise.resolve();
      Promise.all([goodbye, broker.close()]).then(() => resolve(0));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    // As mosquitto: SIGHUP re-reads the password and ACL files; a bad file keeps the old ones.
    process.on('SIGHUP', () => {
      access.reload().then(
        (lines) => {
          for (const line of lines) log.info({ event: 'reload' }, `Reloaded: ${line}`);
        },
        (err: Error) =>
          log.error(
            { event: 'reload-failed', err: err.message },
            `Reload failed, keeping the old files: ${err.message}`,
          ),
      );
    });
  });
}
