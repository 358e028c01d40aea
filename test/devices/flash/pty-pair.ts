// Two pseudo-terminals joined by Debian's socat (`pty,raw,echo=0` both ends), each opened with
// the real `serialport` package: the flasher talks through one end, the simulated board sits at
// the other. A pty has no modem lines (TIOCMSET fails), so DTR/RTS reach the board out of band.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { SerialPort } from 'serialport';

export interface PtyPair {
  host: SerialPort;
  board: SerialPort;
  /** Pulls the plug: socat goes, and with it the line between the two ends. */
  unplug(): Promise<void>;
  close(): Promise<void>;
}

export async function openPtyPair(): Promise<PtyPair> {
  const socat: ChildProcess = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const paths = await new Promise<string[]>((resolve, reject) => {
    let log = '';
    socat.once('error', reject);
    socat.once('exit', (code) => reject(new Error(`socat exited (${code}): ${log}`)));
    socat.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const found = [...log.matchAll(/PTY is (\S+)/g)].map((m) => m[1]!);
      if (found.length === 2 && log.includes('starting data transfer')) resolve(found);
    });
  });
  const open = (path: string) =>
    new Promise<SerialPort>((resolve, reject) => {
      const port = new SerialPort({ path, baudRate: 115200 }, (err) => (err ? reject(err) : resolve(port)));
    });
  const host = await open(paths[0]!);
  const board = await open(paths[1]!);
  // After unplug() the board's writes fail with EIO, as a vanished USB device's would: not a test error.
  board.on('error', () => {});
  const stopSocat = async () => {
    if (socat.exitCode !== null || socat.signalCode !== null) return;
    const exited = once(socat, 'exit');
    socat.kill();
    await exited;
  };
  const closePort = (port: SerialPort) =>
    new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
  return {
    host,
    board,
    unplug: stopSocat,
    async close() {
      await Promise.all([closePort(host), closePort(board)]);
      await stopSocat();
    },
  };
}
