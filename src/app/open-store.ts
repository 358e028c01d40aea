/** The broker's durable state: SQLite in the data folder, with the durability policy the config asks for. */
import type { Logger } from 'pino';
import type { DurabilityPolicy } from '../broker/ports/persistence.js';
import type { LoadedConfig } from '../config/mosquitto-conf.js';
import { openSqliteStore, type SqliteStore } from '../store/index.js';

export function durabilityPolicy(config: LoadedConfig | undefined): DurabilityPolicy {
  switch (config?.durability) {
    case 'every-message':
      return { mode: 'every-message' };
    case 'periodic':
      return { mode: 'periodic', intervalSeconds: config.autosaveInterval || 1800 };
    default:
      return { mode: 'grouped', maxDelayMs: config?.commitDelayMs ?? 2 };
  }
}

/** Opens the store in `dir`; a damaged file stops the start unless `recover` moves it aside. */
export function openStore(
  dir: string,
  config: LoadedConfig | undefined,
  recover: boolean,
  log: Logger,
): SqliteStore {
  const store = openSqliteStore({
    dir,
    policy: durabilityPolicy(config),
    onCorrupt: recover ? 'move-aside' : 'fail',
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
  return store;
}
