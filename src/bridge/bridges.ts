/**
 * Every bridge of a running broker, by connection name: started from the config, changed by a reload
 * (added, changed and removed ones only; the others keep their link), stopped with the broker.
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import { Bridge, type BridgeStatus } from './bridge.js';
import type { BridgeConfig } from './bridge-config.js';
import { BridgeSys } from './bridge-sys.js';

/** A bridge's settings without where they were written: moving a block in the file changes nothing. */
function settingsOf(b: BridgeConfig): Omit<BridgeConfig, 'where'> {
  const { where: _where, ...rest } = b;
  return rest;
}

export class Bridges {
  private readonly byName = new Map<string, Bridge>();
  /** This hub in the hop markers of the messages its bridges send out. */
  readonly hopId = randomUUID();
  private readonly sys: BridgeSys;

  constructor(
    private readonly broker: Broker,
    private readonly log: Logger,
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

  start(configs: readonly BridgeConfig[]): void {
    for (const c of configs) this.add(c);
  }

  private add(c: BridgeConfig): void {
    const bridge = new Bridge(c, this.broker, this.log, this.hopId);
    this.byName.set(c.name, bridge);
    bridge.start();
  }

  /** A reloaded config: new bridges start, removed ones stop, changed ones restart; lines saying what changed. */
  async apply(configs: readonly BridgeConfig[]): Promise<string[]> {
    const lines: string[] = [];
    const wanted = new Map(configs.map((c) => [c.name, c]));
    const before = new Set(this.byName.keys());
    for (const [name, bridge] of [...this.byName]) {
      const next = wanted.get(name);
      if (next && isDeepStrictEqual(settingsOf(next), settingsOf(bridge.config))) continue;
      await bridge.stop(!next); // a removed bridge's queue goes with it
      this.byName.delete(name);
      if (!next) {
        lines.push(`bridge ${name} removed`);
        this.sys.forget(name);
      }
    }
    for (const c of configs) {
      if (this.byName.has(c.name)) continue;
      this.add(c);
      lines.push(`bridge ${c.name} ${before.has(c.name) ? 'changed, restarted' : 'added'}`);
    }
    return lines;
  }

  status(): BridgeStatus[] {
    return [...this.byName.values()].map((b) => b.status());
  }

  async stop(): Promise<void> {
    this.sys.stop();
    await Promise.all([...this.byName.values()].map((b) => b.stop()));
    this.byName.clear();
  }
}
