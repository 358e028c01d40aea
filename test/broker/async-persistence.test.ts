import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoadedState, Persistence } from '../../src/broker/ports/persistence.js';
import { Broker } from '../../src/index.js';
import { openSqliteStore } from '../../src/store/index.js';
import { cleanupTempDirs, tempDir } from '../store/helpers.js';

afterAll(() => cleanupTempDirs());

/** The SQLite store with a `load` that answers only when the test says (a slow networked store). */
function heldLoad(dir: string): { store: Persistence; release(): void; fail(err: Error): void } {
  const sqlite = openSqliteStore({ dir, policy: { mode: 'grouped', maxDelayMs: 2 } });
  let release!: () => void;
  let fail!: (err: Error) => void;
  const gate = new Promise<void>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  const store = new Proxy(sqlite as unknown as Persistence, {
    get(target, prop) {
      if (prop === 'load')
        return (limit?: number): Promise<LoadedState> => gate.then(() => sqlite.load(limit));
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store, release, fail };
}

describe('a store whose reads answer later (the asynchronous read side of the Persistence port)', () => {
  it('a client that connects while the state is loading is served after it, with its session back', async () => {
    const dir = tempDir('ms-async-load-');
    // A persistent session and a retained message, written by a broker with the plain store.
    const first = new Broker({
      persistence: openSqliteStore({ dir, policy: { mode: 'grouped', maxDelayMs: 2 } }),
      sysInterval: 0,
    });
    const l1 = await first.listen({ port: 0, host: '127.0.0.1' });
    const c1 = await mqtt.connectAsync(`mqtt://127.0.0.1:${l1.port}`, {
      clientId: 'board',
      clean: false,
      reconnectPeriod: 0,
    });
    await c1.subscribeAsync('output', { qos: 1 });
    await c1.endAsync();
    first.publish({ topic: 'output', payload: 'on', qos: 1 });
    await first.close();

    const held = heldLoad(dir);
    const second = new Broker({ persistence: held.store, sysInterval: 0 });
    second.publish({ topic: 'board/status', payload: 'online', qos: 1, retain: true }); // waits too
    const l2 = await second.listen({ port: 0, host: '127.0.0.1' });
    const c2 = mqtt.connect(`mqtt://127.0.0.1:${l2.port}`, {
      clientId: 'board',
      clean: false,
      reconnectPeriod: 0,
    });
    const connack = new Promise<boolean>((resolve) => c2.once('connect', (p) => resolve(p.sessionPresent)));
    const message = new Promise<string>((resolve) => c2.once('message', (_t, p) => resolve(p.toString())));
    let answered = false;
    void connack.then(() => {
      answered = true;
    });
    // The CONNECT has reached the broker and waits: nothing is answered until the load is.
    await new Promise((r) => setTimeout(r, 200));
    expect(answered).toBe(false);
    held.release();
    await second.ready;
    expect(await connack).toBe(true);
    expect(await message).toBe('on');
    expect(second.retained().map((m) => m.topic)).toEqual(['board/status']);
    await c2.endAsync();
    await second.close();
  }, 20_000);

  it('a load that fails rejects `ready` and closes the connections that waited', async () => {
    const held = heldLoad(tempDir('ms-async-fail-'));
    const broker = new Broker({ persistence: held.store, sysInterval: 0 });
    const l = await broker.listen({ port: 0, host: '127.0.0.1' });
    const c = mqtt.connect(`mqtt://127.0.0.1:${l.port}`, { reconnectPeriod: 0, connectTimeout: 10_000 });
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.on('error', () => {});
    held.fail(new Error('the store is unreachable'));
    await expect(broker.ready).rejects.toThrow('the store is unreachable');
    await closed;
    c.end(true);
    await broker.close();
  }, 20_000);
});
