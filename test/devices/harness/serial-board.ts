// A board on a serial line without hardware: Debian's socat makes a pseudo-terminal pair, the
// simulated board (the real MicroPython interpreter, src/devices/sim) holds one end as its UART and
// runs its REPL there, and the code under test opens the other end as it would /dev/ttyUSB0.
import { type ChildProcess, spawn } from 'node:child_process';
import type { ProvisionOptions } from '../../../src/devices/provision/provision.js';
import { Board, FIRMWARE_DIR, type SerialOptions } from '../../../src/devices/sim/board.js';
import { FAST_KEEPALIVE, FAST_TIMING } from '../../../src/devices/sim/board-config.js';

export interface PtyPair {
  /** The board's end and the host's end. */
  board: string;
  host: string;
  /** Ends socat: both ends go away, as when the USB cable is pulled. */
  unplug(): Promise<void>;
}

export async function ptyPair(): Promise<PtyPair> {
  const socat: ChildProcess = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const paths = await new Promise<string[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socat gave no ptys: ${err}`)), 10_000);
    socat.once('error', reject);
    socat.stderr!.on('data', (d) => {
      err += d;
      const found = [...err.matchAll(/PTY is (\S+)/g)].map((m) => m[1]!);
      if (found.length === 2 && /starting data transfer loop/.test(err)) {
        clearTimeout(timer);
        resolve(found);
      }
    });
  });
  const exited = new Promise<void>((r) => socat.once('exit', () => r()));
  return {
    board: paths[0]!,
    host: paths[1]!,
    async unplug() {
      if (socat.exitCode === null) socat.kill('SIGKILL');
      await exited;
    },
  };
}

export interface SerialBoard {
  board: Board;
  pty: PtyPair;
  /** Unplugs the line and plugs the board into a new one (pty changes, as a USB port's name may). */
  replug(): Promise<void>;
  close(): Promise<void>;
}

export async function serialBoard(
  opts: Omit<SerialOptions, 'path'> & {
    files?: Record<string, string>;
    accessPoints?: Record<string, string>;
    uniqueId?: string;
  } = {},
): Promise<SerialBoard> {
  const { files, accessPoints, uniqueId, ...serial } = opts;
  let pty = await ptyPair();
  const board = await Board.start({
    app: 'mothership',
    config: {},
    files,
    accessPoints: accessPoints ?? { lab: 'lab-password' },
    uniqueId,
    serial: { path: pty.board, ...serial },
  });
  const sb: SerialBoard = {
    board,
    pty,
    async replug() {
      await board.detach();
      await pty.unplug();
      pty = await ptyPair();
      sb.pty = pty;
      await board.attach(pty.board);
    },
    async close() {
      await board.stop();
      await pty.unplug();
    },
  };
  return sb;
}

/** Provisioning this board against a broker on loopback at `port`, with the sim's fast timings. */
export function provisionOptions(
  sb: SerialBoard,
  port: number,
  more: Partial<ProvisionOptions> = {},
): ProvisionOptions {
  return {
    port: sb.pty.host,
    app: 'mothership',
    firmwareDir: FIRMWARE_DIR,
    wifi: { ssid: 'lab', password: 'lab-password' },
    broker: { host: '127.0.0.1', port },
    monitor: { host: '127.0.0.1', port },
    timing: FAST_TIMING,
    keepalive: FAST_KEEPALIVE,
    onlineTimeoutMs: 90_000,
    ...more,
  };
}
