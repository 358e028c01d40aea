/**
 * Every bridge of a running broker, by connection name: started from the config, changed by a reload
 * (added, changed and removed ones only; the others keep their link), one at a time through the hub's
 * API (bridge-control.ts), stopped with the broker. A bridge with a local_username starts once this
 * broker accepts that login, tried again every restart_timeout until it does.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import { Bridge, type BridgeStatus } from './bridge.js';
import { type BridgeConfig, localClientIdOf } from './bridge-config.js';
import { BridgeSys } from './bridge-sys.js';

/** A bridge's settings without where they were written: moving a block in the file changes nothing. */
function settingsOf(b: BridgeConfig): Omit<BridgeConfig, 'where'> {
  const { where: _where, ...rest } = b;
  return rest;
}

export interface BridgesOptions {
  /** Checks a bridge's local_username/local_password as a CONNECT would; why not, when refused. */
  localLogin?: (username: string, password: string | undefined) => Promise<string | undefined>;
}

export class Bridges {
  private readonly byName = new Map<string, Bridge>();
  private readonly loginRetries = new Map<Bridge, NodeJS.Timeout>();
  /** This hub in the hop markers of the messages its bridges send out. */
  readonly hopId = randomUUID();
  private readonly sys: BridgeSys;

  constructor(
    private readonly broker: Broker,
    private readonly log: Logger,
    private readonly options: BridgesOptions = {},
  ) {
    this.sys = new BridgeSys(broker, () => this.status());
    this.sys.start(broker.options.sysInterval);
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  get(name: string): Bridge | undefined {
    return this.byName.get(name);
  }

  /** A session of this broker has this client id (a client's, or a bridge's). */
  hasSession(clientId: string): boolean {
    return this.broker.sessionInfo().some((s) => s.clientId === clientId);
  }

  /** Resolves once every bridge queues (or its local login was refused: it tries again later). */
  async start(configs: readonly BridgeConfig[]): Promise<void> {
    for (const c of configs) await this.add(c);
  }

  /** One more bridge, started at once; the others are untouched. */
  async add(c: BridgeConfig): Promise<Bridge> {
    const bridge = new Bridge(c, this.broker, this.log, this.hopId);
    this.byName.set(c.name, bridge);
    await this.login(bridge);
    return bridge;
  }

  private async login(bridge: Bridge): Promise<void> {
    this.loginRetries.delete(bridge);
    const { localUsername, localPassword, restartTimeout } = bridge.config;
    const refused =
      localUsername === undefined ? undefined : await this.options.localLogin?.(localUsername, localPassword);
    if (this.byName.get(bridge.name) !== bridge) return; // removed meanwhile
    if (refused === undefined) return bridge.start();
    bridge.refusedLocally(refused);
    const seconds = 'constant' in restartTimeout ? restartTimeout.constant : restartTimeout.base;
    const timer = setTimeout(() => void this.login(bridge), seconds * 1000);
    timer.unref();
    this.loginRetries.set(bridge, timer);
  }

  /** Stops a bridge; `discard`: its queue (the local session) goes with it. Resolves to what it held. */
  async remove(name: string, discard: boolean): Promise<number> {
    const bridge = this.byName.get(name);
    if (!bridge) return 0;
    const queued = bridge.status().queued;
    clearTimeout(this.loginRetries.get(bridge));
    this.loginRetries.delete(bridge);
    this.byName.delete(name);
    await bridge.stop(discard);
    const clientId = localClientIdOf(bridge.config);
    // Never started (its local login refused): the session of an earlier run is still there.
    if (discard && this.hasSession(clientId))
      this.broker
        .inProcessClient({ clientId, sessionExpiry: 0, cleanStart: true })
        .end('server-shutting-down', true);
    if (discard) this.sys.forget(name);
    return queued;
  }

  /** A reloaded config: new bridges start, removed ones stop, changed ones restart; lines saying what changed. */
  async apply(configs: readonly BridgeConfig[]): Promise<string[]> {
    const lines: string[] = [];
    const wanted = new Map(configs.map((c) => [c.name, c]));
    const before = new Set(this.byName.keys());
    for (const [name, bridge] of [...this.byName]) {
      const next = wanted.get(name);
      if (next && isDeepStrictEqual(settingsOf(next), settingsOf(bridge.config))) continue;
      await this.remove(name, !next); // a removed bridge's queue goes with it
      if (!next) lines.push(`bridge ${name} removed`);
    }
    for (const c of configs) {
      if (this.byName.has(c.name)) continue;
      await this.add(c);
      lines.push(`bridge ${c.name} ${before.has(c.name) ? 'changed, restarted' : 'added'}`);
    }
    return lines;
  }

  status(): BridgeStatus[] {
    return [...this.byName.values()].map((b) => b.status());
  }

  async stop(): Promise<void> {
    this.sys.stop();
    for (const timer of this.loginRetries.values()) clearTimeout(timer);
    this.loginRetries.clear();
    await Promise.all([...this.byName.values()].map((b) => b.stop()));
    this.byName.clear();
  }
}
