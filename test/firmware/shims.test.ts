// The harness's stand-ins for MicroPython's asyncio streams and the ESP32's socket layer behave as
// MicroPython does (extmod/asyncio/stream.py, ports/esp32/modsocket.c over lwIP), not as Node does:
// a probe main.py (fixtures/stream_probe.py) runs each behaviour on the interpreter against a server
// here, over real loopback sockets, and prints what it saw.
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Board } from '../../src/devices/sim/board.js';
import { ERRNO, lwipErrno, SND_BUF } from '../../src/devices/sim/lwip.mjs';
import { freePort } from './harness/broker.js';
import { AP, boardConfig } from './harness/config.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Answers each connection by the first line it sends; records when each one was closed. */
function probeServer() {
  const ends: string[] = [];
  const server = net.createServer((c) => {
    c.on('error', () => {});
    let buf = '';
    let mode = '';
    let count = 0;
    c.on('data', (d) => {
      if (mode === 'write') {
        count += d.length;
        if (count === 12000) c.write('12000\n');
        return;
      }
      buf += d.toString('latin1');
      for (let nl = buf.indexOf('\n'); nl >= 0 && mode !== 'write'; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!mode) {
          mode = line;
          if (mode === 'read') c.write('abc');
          else if (mode === 'reset') c.resetAndDestroy();
        } else if (mode === 'close' && line === 'after close()') c.write('ok\n');
        else if (mode === 'read' && line === 'more') {
          c.write('de');
          setTimeout(() => c.end('fgh'), 50);
        }
      }
      if (mode === 'write' && buf.length) {
        count = buf.length;
        buf = '';
        if (count === 12000) c.write('12000\n');
      }
    });
    c.on('end', () => ends.push(mode));
  });
  return { server, ends };
}

let srv: ReturnType<typeof probeServer>;
let port: number;
let board: Board;
const result = (step: string) =>
  board.lines.find((l) => l.text.startsWith(`probe: ${step} `))?.text.slice(8 + step.length);

beforeAll(async () => {
  srv = probeServer();
  await new Promise<void>((r) => srv.server.listen(0, '127.0.0.1', () => r()));
  port = (srv.server.address() as net.AddressInfo).port;
  const config = boardConfig('probe', port, {
    port,
    closed_port: await freePort(), // nothing listens there
    ssid: AP.ssid,
    password: AP.password,
  });
  board = await Board.start({
    app: 'mothership',
    main: join(here, 'fixtures', 'stream_probe.py'),
    config,
    accessPoints: { [AP.ssid]: AP.password },
    maxSockets: 3,
  });
  await board.waitFor(/^probe: done$/, 15_000);
}, 30_000);

afterAll(async () => {
  await board?.stop();
  await new Promise<void>((r) => srv?.server.close(() => r()));
});

describe('the stream and socket shims behave as MicroPython on an ESP32', () => {
  it('without Wi-Fi a connect fails at once with EHOSTUNREACH (118), as lwIP has no route', () => {
    expect(result('no_wifi')).toBe(`OSError(${ERRNO.EHOSTUNREACH},)`);
  });

  it('close() does nothing; only wait_closed() closes the socket', async () => {
    // after close() the socket still carried a line and an answer, and was still open
    expect(result('close_only')).toBe('ok 1 0');
    await expect.poll(() => srv.ends.includes('close')).toBe(true);
  });

  it('a read returns what has arrived, readexactly assembles pieces, b"" at EOF, then EOFError', () => {
    expect(result('partial_read')).toBe("b'abc' b'defgh' b'' EOFError");
  });

  it(`a write takes at most lwIP's send buffer (${SND_BUF} B); drain() sends the rest`, () => {
    expect(result('partial_write')).toBe(`${12000 - SND_BUF} 0 12000`);
  });

  it('a reset connection raises OSError(ECONNRESET = 104) on read and on write', () => {
    expect(result('reset')).toBe(`OSError(${ERRNO.ECONNRESET},) OSError(${ERRNO.ECONNRESET},)`);
  });

  it('a refused connect shows at the first write as OSError(ECONNRESET)', () => {
    expect(result('refused')).toBe(`OSError(${ERRNO.ECONNRESET},)`);
  });

  it('past the socket limit a new socket fails with ENFILE (23)', () => {
    expect(result('limit')).toBe(`3 OSError(${ERRNO.ENFILE},)`);
  });

  it("a heap the size of the ESP32's raises MemoryError instead of growing", () => {
    expect(result('heap')).toBe('MemoryError');
  });

  it("Node's socket errors map to the ESP32's errno numbers (newlib's, not Linux's)", () => {
    expect(lwipErrno('ECONNREFUSED')).toBe(104);
    expect(lwipErrno('ECONNRESET')).toBe(104);
    expect(lwipErrno('EPIPE')).toBe(104);
    expect(lwipErrno('ETIMEDOUT')).toBe(116);
    expect(lwipErrno('EHOSTUNREACH')).toBe(118);
    expect(lwipErrno('ENETUNREACH')).toBe(118);
    expect(lwipErrno('ECONNABORTED')).toBe(113);
    expect(ERRNO).toMatchObject({ ECONNRESET: 104, ECONNABORTED: 113, ETIMEDOUT: 116, EHOSTUNREACH: 118 });
  });
});
