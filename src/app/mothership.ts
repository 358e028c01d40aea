/**
 * The composition root: `startMothership` wires the store, the access rules, the broker, its
 * listeners, logging and the mDNS announcement from one typed set of options; the CLI only parses
 * flags and calls it. Every feature folder (hub, bridge, devices) is wired here and nowhere else.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { BridgeControl, combine } from '../bridge/bridge-control.js';
import { bridgesOf, checkBridges } from '../bridge/bridge-directives.js';
import { bridgeRoutes } from '../bridge/bridge-routes.js';
import { Bridges } from '../bridge/bridges.js';
import { BridgesFile } from '../bridge/bridges-file.js';
import type { LoadedConfig } from '../config/mosquitto-conf.js';
import { historyConfigOf } from '../hub/history/history-directives.js';
import { HistoryRecorder } from '../hub/history/index.js';
import { Hub } from '../hub/hub.js';
import { LAYOUTS_FILE, LayoutStore } from '../hub/layouts/layout-store.js';
import { Broker } from '../index.js';
import type { Listener, ListenOptions } from '../transport/listen-options.js';
import { type Advertisement, advertiseBroker } from '../transport/mdns.js';
import { banner } from './banner.js';
import { logClients } from './client-log.js';
import { loadMothershipConfig } from './config-file.js';
import { type BrokerAccess, createBrokerAccess } from './listener-access.js';
import { createLogger, levelFor, logOutputs } from './logger.js';
import { openStore } from './open-store.js';

export interface MothershipOptions {
  /** A config file, read; its listeners replace the default ones (as in mosquitto). */
  config?: LoadedConfig;
  /** Its path, for the banner. */
  configPath?: string;
  /** The default listeners, when the config sets none: MQTT on `port`, WebSocket on `wsPort`. */
  port?: number;
  /** undefined: no WebSocket listener. */
  wsPort?: number | undefined;
  /** Listen on this address only (default: every interface). */
  host?: string;
  /** Where persistent state lives unless the config's persistence_location says otherwise. */
  dataDir?: string;
  persistence?: boolean;
  /** Move a damaged database aside and start empty instead of refusing to start. */
  recover?: boolean;
  mdns?: boolean;
  /** Log every packet (as mosquitto -v). */
  verbose?: boolean;
  logFormat?: 'text' | 'json';
  /** Lines to log as warnings once the logger exists (e.g. a flag the config makes useless). */
  warnings?: { event: string; text: string; [field: string]: unknown }[];
  /** How to run the CLI the way this process was started, for the banner's "Try it" line. */
  invocation?: string;
  /** The hub (API, live updates, /metrics) on the WebSocket listeners' port (default on). */
  hub?: boolean;
  /** The dashboard's built files the hub serves at `/` (default: this package's dist/web). */
  dashboardDir?: string;
}

export interface Mothership {
  readonly broker: Broker;
  readonly listeners: Listener[];
  readonly log: Logger;
  readonly access: BrokerAccess;
  /** Undefined when the hub is off. */
  readonly hub: Hub | undefined;
  /** The config's bridges (`connection` blocks), then those added through the API (bridges.conf). */
  readonly bridges: Bridges;
  /** Adds and removes bridges while running, kept in `<data dir>/bridges.conf`. */
  readonly bridgeControl: BridgeControl;
  /** Where the data lives; undefined with persistence off. */
  readonly dataDir: string | undefined;
  /** Whether the broker is announced over mDNS. */
  readonly mdns: boolean;
  /** What to print for people once everything listens. */
  banner(): string;
  /**
   * Re-reads the password and ACL files, and the bridges of the config file and of bridges.conf
   * (SIGHUP): added, changed and removed bridges only, the others keep their link; a bad file keeps
   * the old ones.
   */
  reload(): Promise<void>;
  /** Stops everything: clients get a shutdown DISCONNECT, the store is flushed, mDNS says goodbye. */
  stop(): Promise<void>;
}

/**
 * The package's dist/web, where scripts/build-web.mjs puts the dashboard: two levels up from this
 * module both as src/app/mothership.ts (tests) and as dist/app/mothership.js (installed).
 */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

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

/** A config file's listeners replace the defaults; without any, MQTT and WebSocket on the given ports. */
function listenersWanted(options: MothershipOptions): ListenOptions[] {
  const { config } = options;
  if (config?.listenersConfigured) {
    return config.listeners.map((l) => ({
      port: l.port,
      protocol: l.protocol,
      ...(l.bindAddress ? { host: l.bindAddress } : {}),
      ...(l.tls ? { tls: l.tls } : {}),
    }));
  }
  const host = options.host ? { host: options.host } : {};
  const wanted: ListenOptions[] = [{ port: options.port ?? 1883, ...host }];
  const wsPort = 'wsPort' in options ? options.wsPort : 8080;
  if (wsPort !== undefined) wanted.push({ port: wsPort, protocol: 'websockets', ...host });
  return wanted;
}

async function announce(listeners: Listener[], log: Logger): Promise<Advertisement | undefined> {
  const mqtt = listeners.find((l) => l.protocol === 'mqtt');
  if (!mqtt) return undefined;
  const ws = listeners.find((l) => l.protocol === 'websockets' && !l.tls);
  try {
    return await advertiseBroker({ port: mqtt.port, tls: mqtt.tls, ...(ws ? { wsPort: ws.port } : {}) });
  } catch (err) {
    // A machine without multicast still runs the broker; boards then need its address.
    log.warn(
      { event: 'mdns-failed', err: (err as Error).message },
      `mDNS announcement failed: ${(err as Error).message}`,
    );
    return undefined;
  }
}

/** The hub's history in the data folder, as the config's history_* lines say (undefined: `history false`). */
function openHistory(
  dataDir: string,
  config: LoadedConfig | undefined,
  log: Logger,
): HistoryRecorder | undefined {
  const h = historyConfigOf(config);
  if (!h.enabled) return undefined;
  const history = new HistoryRecorder({
    dir: dataDir,
    ...(h.include ? { include: h.include } : {}),
    exclude: ['$SYS/#', ...h.exclude],
    retention: h.retention,
    ...(h.maxBytes !== undefined ? { maxBytes: h.maxBytes } : {}),
    ...(h.messagesPerTopic !== undefined ? { messagesPerTopic: h.messagesPerTopic } : {}),
    onError: (err) => log.error({ event: 'history-error', err: err.message }, `History: ${err.message}`),
  });
  if (history.movedAside)
    log.warn(
      { event: 'history-moved-aside', file: history.movedAside },
      `The damaged history database was moved to ${history.movedAside}; history starts empty.`,
    );
  return history;
}

export async function startMothership(options: MothershipOptions = {}): Promise<Mothership> {
  const { config } = options;
  const { outs, unsupported } = logOutputs(config?.log.dest ?? []);
  const log = createLogger({
    format: options.logFormat ?? 'text',
    level: levelFor(config?.log.types ?? [], options.verbose ?? false),
    outs,
  });
  for (const warning of config?.warnings ?? []) log.warn({ event: 'config-warning' }, warning);
  for (const { text, ...fields } of options.warnings ?? []) log.warn(fields, text);
  for (const dest of unsupported)
    log.warn({ event: 'config-warning' }, `log_dest ${dest} is not supported yet; logging to stdout instead`);

  checkBridges(bridgesOf(config));
  const access = await createBrokerAccess(config);
  const persistence = options.persistence !== false && config?.persistence !== false;
  const dataDir = persistence
    ? (config?.persistenceLocation ?? options.dataDir ?? './mothership-data')
    : undefined;
  const store = dataDir === undefined ? undefined : openStore(dataDir, config, options.recover ?? false, log);
  const broker = new Broker({
    ...config?.broker,
    authenticator: access,
    authorizer: access,
    persistence: store,
  });
  logClients(broker, log, options.verbose ?? false);
  try {
    await broker.ready;
  } catch (err) {
    await broker.close();
    throw err;
  }

  // Bridges start before any client can publish: what is bound out is queued from the first message.
  const bridges = new Bridges(broker, log, { localLogin: (u, p) => access.bridgeLogin(u, p) });
  const bridgeControl = new BridgeControl(
    bridges,
    dataDir === undefined ? undefined : new BridgesFile(dataDir),
  );
  try {
    await bridges.start(combine(bridgesOf(config), await bridgeControl.added()));
  } catch (err) {
    await bridges.stop();
    await broker.close();
    throw err;
  }

  const listeners: Listener[] = [];
  const hub: Hub | undefined =
    options.hub === false
      ? undefined
      : new Hub({
          broker,
          access,
          routes: bridgeRoutes(
            () => bridges.status(),
            () => hub!.access,
            bridgeControl,
          ),
          listener: () => listeners.find((l) => l.protocol === 'websockets')?.name ?? 'ws',
          staticDir: options.dashboardDir ?? DEFAULT_DASHBOARD_DIR,
          layouts: new LayoutStore(dataDir === undefined ? undefined : join(dataDir, LAYOUTS_FILE), (err) =>
            log.warn({ event: 'layouts-unreadable', err: err.message }, `Dashboard layouts: ${err.message}`),
          ),
          ...(dataDir !== undefined ? { history: openHistory(dataDir, config, log) } : {}),
        });
  try {
    for (const [i, wanted] of listenersWanted(options).entries()) {
      const rule =
        access.anonymous.policy === 'per-listener' ? access.anonymous.perListener[i] : access.anonymous;
      if (wanted.protocol === 'websockets') {
        if (rule?.policy === 'lan') wanted.onProxiedRequest = warnProxiedOnce(log, wanted.port);
        if (hub) wanted.http = hub.http;
      }
      listeners.push(await broker.listen(wanted));
    }
  } catch (err) {
    await hub?.close();
    await bridges.stop();
    await broker.close();
    throw err;
  }
  access.attachListeners(listeners.map((l) => l.name));

  // Tests and benchmarks set MOTHERSHIP_NO_MDNS so no multicast ever leaves the machine.
  const mdnsWanted =
    (options.mdns ?? true) && config?.mdns !== false && process.env.MOTHERSHIP_NO_MDNS !== '1';
  const advertisement = mdnsWanted ? await announce(listeners, log) : undefined;

  let stopping: Promise<void> | undefined;
  return {
    broker,
    listeners,
    log,
    access,
    hub,
    bridges,
    bridgeControl,
    dataDir,
    mdns: advertisement !== undefined,
    banner: () =>
      banner({
        listeners,
        anonymous: access.anonymous,
        config: options.configPath,
        data: dataDir,
        mdns: advertisement !== undefined,
        invocation: options.invocation ?? 'mothership',
        dashboard: hub !== undefined,
      }),
    async reload() {
      try {
        for (const line of await access.reload()) log.info({ event: 'reload' }, `Reloaded: ${line}`);
      } catch (err) {
        log.error(
          { event: 'reload-failed', err: (err as Error).message },
          `Reload failed, keeping the old files: ${(err as Error).message}`,
        );
      }
      try {
        const next =
          options.configPath === undefined ? config : await loadMothershipConfig(options.configPath);
        for (const line of await bridgeControl.reload(bridgesOf(next)))
          log.info({ event: 'reload' }, `Reloaded: ${line}`);
      } catch (err) {
        log.error(
          { event: 'reload-failed', err: (err as Error).message },
          `Reload failed, keeping the old bridges: ${(err as Error).message}`,
        );
      }
    },
    stop() {
      // In the order that loses nothing: boards stop finding us; the broker takes no new connection
      // or message and delivers what it routed (while the bridges end their links, so nothing keeps
      // arriving); then the history's last flush sees every message; the store closes last.
      stopping ??= (async () => {
        const goodbye = advertisement?.stop().catch(() => {});
        await Promise.all([broker.drain(), bridges.stop()]);
        await hub?.close();
        await Promise.all([goodbye, broker.close()]);
      })();
      return stopping;
    },
  };
}
