/**
 * Child process for crash.test.ts: writes items as fast as it can and prints `durable K` (synchronously,
 * straight to fd 1) as each item's afterDurable callback fires. The parent kills it with SIGKILL.
 * Usage: node --import tsx test/store/crash-child.ts <dir> <grouped|every-message|periodic> <items>
 */
import { writeSync } from 'node:fs';
import { openSqliteStore } from '../../src/store/index.js';

const [dir, mode, itemsArg] = process.argv.slice(2);
const items = Number(itemsArg);
// 'periodic' (acknowledge at once, write hourly) is the negative control: it must lose acknowledged items.
const store = openSqliteStore({
  dir: dir!,
  policy:
    mode === 'every-message'
      ? { mode: 'every-message' }
      : mode === 'periodic'
        ? { mode: 'periodic', intervalSeconds: 3600 }
        : { mode: 'grouped', maxDelayMs: 2 },
  maxBatchOps: mode === 'periodic' ? 1e12 : 1000,
});

store.saveSession({
  clientId: 'crash',
  protocolVersion: 5,
  username: undefined,
  expiryInterval: 0xffffffff,
  expiresAt: undefined,
  will: undefined,
  willDueAt: undefined,
});

/** Synchronous write to stdout; the pipe is non-blocking, so wait out EAGAIN when the parent lags. */
function say(line: string): void {
  const buf = Buffer.from(line);
  let off = 0;
  for (let tries = 0; off < buf.length && tries < 100_000; tries++) {
    try {
      off += writeSync(1, buf, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

let next = 0;
function burst(): void {
  // A few items per turn of the event loop, like several clients publishing at once.
  for (let j = 0; j < 8 && next < items; j++, next++) {
    const k = next;
    const payload = Buffer.alloc(64 + (k % 200), k % 256);
    payload.write(`item-${k};`); // ";" ends the number: the fill byte may be a digit
    store.enqueue('crash', {
      message: { topic: `item/${k}`, payload, qos: 1, retain: false, receivedAt: Date.now() },
      qos: 1,
      retain: false,
    });
    if (k % 10 === 0) {
      store.saveRetained({ topic: `last/${k % 50}`, payload, qos: 1, retain: true, receivedAt: Date.now() });
    }
    store.afterDurable((err) => {
      if (!err) say(`durable ${k}\n`);
    });
  }
  if (next < items) setImmediate(burst);
  else store.afterDurable(() => say('all\n'));
}

store.afterDurable(() => {
  say('ready\n');
  burst();
});
