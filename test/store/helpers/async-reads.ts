import type { LoadedState, Persistence, StoredQueued } from '../../../src/broker/ports/persistence.js';
import type { SqliteStore } from '../../../src/store/index.js';

/**
 * The SQLite store as a networked store would look to the broker: `load` and `readQueue` answer with
 * promises, a turn of the event loop later. Each read is taken when it is issued (a networked store
 * sees the writes made before the read, in order) and delivered later, so the broker must neither
 * serve clients before `load` answers nor send past a queue page still being read.
 */
export function withAsyncReads(store: SqliteStore): Persistence & { reads: number } {
  const later = <T>(value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), 2));
  const counted = { reads: 0 };
  const overrides: Partial<Persistence> = {
    load(queueLimit?: number): Promise<LoadedState> {
      counted.reads++;
      return later(store.load(queueLimit));
    },
    readQueue(clientId: string, afterSeq: number, limit: number): Promise<StoredQueued[]> {
      counted.reads++;
      return later(store.readQueue(clientId, afterSeq, limit));
    },
  };
  return new Proxy(store as unknown as Persistence & { reads: number }, {
    get(target, prop) {
      if (prop === 'reads') return counted.reads;
      if (prop in overrides) return overrides[prop as keyof Persistence];
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
