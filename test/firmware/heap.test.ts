// Steady-state heap of client + app on the real interpreter, with the ESP32's ~100 KB heap:
// gc.mem_alloc() after gc.collect(), between messages, minus the same figure before main.py was
// imported (the interpreter, asyncio and the test shims standing in for C modules). Plain, as an
// outside checker measures it: whatever qstr pool the firmware's names make the interpreter
// allocate counts too. The interned names (qstrs) and the room left in their pools are printed
// beside it: the pools grow by doubling, and crossing into the next one (320 entries) costs 2.3 KB.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Board, type BoardOptions, ESP32_HEAP } from '../../src/devices/sim/board.js';
import { startBroker, type TestBroker } from './harness/broker.js';
import { AP, boardConfig } from './harness/config.js';
import { mosquittoPub } from './harness/seeds.js';

/**
 * The target for client + app at steady state: 12 KB, inclusive. Issue 10's target is 14 KB on a
 * 32-bit MicroPython unix port with real sockets, measured the same way, which reads 0.8 - 2.3 KB
 * more than this interpreter: 12 KB here keeps the firmware under 14 KB there.
 */
const TARGET = 12 * 1024;

/** Entries of the qstr pools the interpreter allocates (20, 40, 80, ...), up to n pools. */
const poolRoom = (n: number) => 20 * (2 ** n - 1);

/** micropython.qstr_info(): the interned strings made at run time and the pools holding them. */
async function qstrInfo(b: Board): Promise<{ pools: number; qstrs: number }> {
  const t = Date.now();
  await b.eval('None', 'import micropython\nmicropython.qstr_info()');
  const m = /n_pool=(\d+), n_qstr=(\d+)/.exec((await b.waitFor(/^qstr pool: /, 5000, t)).text);
  return { pools: Number(m?.[1]), qstrs: Number(m?.[2]) };
}

let broker: TestBroker;
/** The qstr pools of a board whose main.py does nothing. */
let idle: { pools: number; qstrs: number };
beforeAll(async () => {
  broker = await startBroker();
  const b = await Board.start({
    app: 'mothership',
    main: join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'idle_main.py'),
    config: boardConfig('heap-idle', broker.port, {}),
  });
  try {
    expect(await b.eval('main.idle')).toBe(true);
    idle = await qstrInfo(b);
  } finally {
    await b.stop();
  }
});
afterAll(async () => {
  await broker?.close();
});

const apps: [BoardOptions['app'], Record<string, unknown>, string][] = [
  ['conversation', { role: 'machine1', interval_ms: 200, qos: 1 }, 'notification'],
  ['led_remote', { name: 'blue', peer: 'green', interval_ms: 200 }, 'green/btn/0'],
  ['mothership', { interval_ms: 200, qos: 1 }, 'from_mothership'],
  ['dht', { interval_ms: 200 }, 'output'],
];

describe('steady-state heap (gc.mem_alloc)', { timeout: 60_000 }, () => {
  for (const [app, appCfg, inbound] of apps) {
    it(`${app}: client + app stay within 12 KB`, async () => {
      const b = await Board.start({
        app,
        config: boardConfig(`heap-${app}`, broker.port, appCfg),
        accessPoints: { [AP.ssid]: AP.password },
      });
      try {
        await b.waitFor(/^mqtt: up/, 10_000);
        // Traffic both ways for a while, sampling as we go. A sample can catch a message in flight,
        // so the steady state is the lowest sample (between messages); the floors of both halves
        // must agree (no leak).
        const samples: number[] = [];
        const sample = async () => {
          await mosquittoPub(broker.port, ['-q', '1', '-t', inbound, '-m', 'received']);
          await new Promise((r) => setTimeout(r, 300));
          const h = await b.heapUse();
          samples.push(h.raw - b.baselineRaw);
        };
        const growth = () => Math.min(...samples.slice(4)) - Math.min(...samples.slice(0, 4));
        for (let i = 0; i < 8; i++) await sample();
        // On a loaded machine a sample can catch messages in flight (their PUBACKs late, the outbox
        // holding them): sample on, a bounded number of times, until the lowest figure has been seen
        // twice (the floor between messages, not one lucky moment with fewer in flight).
        const floorSeen = () => samples.filter((s) => s - Math.min(...samples) < 64).length >= 2;
        for (let i = 0; i < 16 && (growth() >= 512 || Math.min(...samples) > TARGET || !floorSeen()); i++) {
          await sample();
        }
        const steady = Math.min(...samples);
        const { pools, qstrs } = await qstrInfo(b);
        console.log(
          `[figure] heap ${app}: client + app ${steady} B at steady state, plain gc.mem_alloc() (lowest of samples ${samples.join(', ')}; interpreter + shims baseline ${b.baselineRaw} B); the firmware interned ${qstrs - idle.qstrs} names, the pools have room for ${poolRoom(pools) - qstrs} more`,
        );
        expect(steady).toBeGreaterThan(1000); // something was measured
        expect(steady).toBeLessThanOrEqual(TARGET);
        // Stable: the firmware's names fit in the pools the interpreter had, so no pool of 320
        // entries (2.3 KB) comes and goes with a name more or less.
        expect(pools, "qstr pools after the firmware's names").toBe(idle.pools);
        expect(growth()).toBeLessThan(512);
        expect(await b.heapTotal()).toBeLessThanOrEqual(ESP32_HEAP + 1024); // never outgrew the ESP32's heap
      } finally {
        await b.stop();
      }
    });
  }
});
