/**
 * Bridges added and removed while the broker runs (the hub's API, `mothership bridge add|remove`),
 * kept in `<data dir>/bridges.conf` so they survive a restart, and the config file's bridges on a
 * reload: one change at a time, the other bridges untouched. A config file's bridge is changed only
 * in that file (then SIGHUP); a name is one bridge's, wherever it was written.
 */
import { at } from '../config/lexer.js';
import { ErrorCodes, MothershipError } from '../errors.js';
import type { BridgeStatus } from './bridge.js';
import { type BridgeConfig, localClientIdOf } from './bridge-config.js';
import type { Bridges } from './bridges.js';
import { type BridgesFile, blockToKeep, parseBridgeBlocks } from './bridges-file.js';

export interface Added {
  bridge: BridgeStatus;
  /** Where it is kept. */
  file: string;
  warnings: string[];
}

/** The bridges of the config file and of bridges.conf together; a name in both is an error. */
export function combine(fromConfig: readonly BridgeConfig[], added: readonly BridgeConfig[]): BridgeConfig[] {
  for (const b of added) {
    const twice = fromConfig.find((c) => c.name === b.name);
    if (twice)
      throw new MothershipError(
        ErrorCodes.BRIDGE_NAME_TAKEN,
        `${at(b.where)}: connection ${b.name}: the config file has a bridge of that name too (${at(twice.where)}); remove one of them`,
      );
  }
  return [...fromConfig, ...added];
}

export class BridgeControl {
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly bridges: Bridges,
    /** undefined: the hub has no data folder (persistence false), nowhere to keep added bridges. */
    private readonly file: BridgesFile | undefined,
  ) {}

  /** One change at a time: two adds of one name, or an add during a reload, cannot interleave. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.turn.then(work, work);
    this.turn = next.catch(() => {});
    return next;
  }

  /** The bridges kept in bridges.conf (none without a data folder). */
  async added(): Promise<BridgeConfig[]> {
    return this.file ? (await this.file.read()).bridges : [];
  }

  /**
   * Adds the one `connection` block of `text` (mosquitto syntax; `source` names it in messages),
   * keeps it in bridges.conf and starts it. `note` says who added it, in the file.
   */
  add(text: string, source: string, note: string): Promise<Added> {
    return this.serial(async () => {
      const file = this.file;
      if (!file)
        throw new MothershipError(
          ErrorCodes.BRIDGES_NOT_KEPT,
          "this hub has no data folder (persistence false), so an added bridge could not survive a restart: add the connection block to its config file and 'kill -HUP' it",
        );
      // The file keeps lines split at \n: a lone \r would join two lines there that were two here.
      if (/\r(?!\n)/.test(text))
        throw new MothershipError(
          ErrorCodes.CONFIG_INVALID_VALUE,
          `${source}: lines must end with \\n or \\r\\n, not a lone \\r`,
        );
      const { bridges, warnings } = parseBridgeBlocks(text, source);
      if (bridges.length !== 1)
        throw new MothershipError(
          ErrorCodes.CONFIG_INVALID_VALUE,
          `${source}: needs exactly one connection block, got ${bridges.length}`,
        );
      const wanted = bridges[0]!;
      this.refuseTaken(wanted);
      const kept = await file.rewrite({ add: blockToKeep(text, note) });
      const config = kept.bridges.find((b) => b.name === wanted.name)!;
      const bridge = await this.bridges.add(config);
      return { bridge: bridge.status(), file: file.path, warnings };
    });
  }

  private refuseTaken(wanted: BridgeConfig): void {
    const clientId = localClientIdOf(wanted);
    for (const name of this.bridges.names) {
      const other = this.bridges.get(name)!.config;
      const why =
        other.name === wanted.name
          ? `a bridge named '${wanted.name}' exists already`
          : localClientIdOf(other) === clientId
            ? `bridge '${other.name}' uses the local client id '${clientId}' already (set local_clientid)`
            : undefined;
      if (why) throw new MothershipError(ErrorCodes.BRIDGE_NAME_TAKEN, `${why} (${at(other.where)})`);
    }
    // A client's session taken over by a bridge would lose its subscriptions and queue to it.
    if (this.bridges.hasSession(clientId))
      throw new MothershipError(
        ErrorCodes.BRIDGE_NAME_TAKEN,
        `a client of this broker has the session '${clientId}' the bridge would use locally (set local_clientid)`,
      );
  }

  /**
   * Stops an added bridge and takes it out of bridges.conf, its queue with it; refused while the
   * queue holds messages unless `force`. Resolves to the number of queued messages dropped.
   */
  remove(name: string, force: boolean): Promise<number | undefined> {
    return this.serial(async () => {
      const bridge = this.bridges.get(name);
      if (!bridge) return undefined;
      const { where } = bridge.config;
      if (where.file !== this.file?.path)
        throw new MothershipError(
          ErrorCodes.BRIDGE_IN_CONFIG_FILE,
          `bridge '${name}' comes from the config file (${at(where)}): remove its connection block there, then 'kill -HUP' the hub`,
        );
      const queued = bridge.status().queued;
      if (queued > 0 && !force)
        throw new MothershipError(
          ErrorCodes.BRIDGE_QUEUE_NOT_EMPTY,
          `bridge '${name}' holds ${queued} message(s) its remote has not acknowledged, which removing it would drop: force it ('mothership bridge remove --force', or "force": true)`,
        );
      await this.file.rewrite({ remove: name });
      return this.bridges.remove(name, true);
    });
  }

  /** A reload: the config file's bridges as now written, with those of bridges.conf. */
  reload(fromConfig: readonly BridgeConfig[]): Promise<string[]> {
    return this.serial(async () => this.bridges.apply(combine(fromConfig, await this.added())));
  }
}
