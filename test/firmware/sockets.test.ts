// Every connection the board gives up on is closed (MicroPython's StreamWriter.close() does
// nothing by itself; only wait_closed() closes the socket), so a board with the ESP32's handful of
// sockets reconnects after any number of failed attempts.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Board } from '../../src/devices/sim/board.js';
import { startBroker, type TestBroker } from './harness/broker.js';
import { AP, boardConfig } from './harness/config.js';
import { startProxy, type TcpProxy } from './harness/proxy.js';
import { probe } from './harness/wait.js';

let broker: TestBroker;
let proxy: TcpProxy;
let board: Board | undefined;

beforeEach(async () => {
  broker = await startBroker();
  proxy = await startProxy(broker.port);
});
afterEach(async () => {
  await board?.stop();
  board = undefined;
  await proxy?.close();
  await broker?.close();
});

/** Waits until the board has printed `re` n times in all. */
async function times(b: Board, re: RegExp, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (b.lines.filter((l) => re.test(l.text)).length < n) {
    if (Date.now() > deadline)
      throw new Error(
        `board printed ${re} fewer than ${n} times:\n${b.lines
          .slice(-10)
          .map((l) => l.text)
          .join('\n')}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('closes the sockets of failed and frozen connections: with 4 sockets it still reconnects after many failures', {
  timeout: 60_000,
}, async () => {
  board = await Board.start({
    app: 'mothership',
    config: boardConfig('esp32-sockets', proxy.port, { interval_ms: 200, qos: 1 }),
    accessPoints: { [AP.ssid]: AP.password },
    maxSockets: 4,
  });
  const b = board;
  await probe(b, broker.port, 10_000);
  const failed = /^mqtt: connect failed/;

  // Broker down: the proxy accepts and drops each attempt. More failures than the board has sockets.
  await broker.stop();
  await times(b, failed, 6, 20_000);
  expect(b.lines.some((l) => /OSError\(23,\)/.test(l.text))).toBe(false); // never out of sockets
  expect(b.maxOpenSockets).toBe(1); // the old socket was closed before each new attempt

  // Broker frozen: connects are accepted and never answered; each attempt times out and is closed,
  // so nothing is left behind for the broker to process once it wakes up.
  proxy.set('blackhole');
  await broker.restart();
  const before = b.lines.filter((l) => /^mqtt: connect failed: TimeoutError/.test(l.text)).length;
  await times(b, /^mqtt: connect failed: TimeoutError/, before + 3, 20_000);
  expect(proxy.open).toBeLessThanOrEqual(1); // at most the attempt under way
  expect(b.sockets).toBeLessThanOrEqual(1);

  proxy.set('forward');
  await probe(b, broker.port, 15_000);
  expect(b.sockets).toBe(1);
  expect(b.maxOpenSockets).toBe(1);
  expect(b.resets).toBe(0);
  expect(b.wdtFired).toBe(false);
});
