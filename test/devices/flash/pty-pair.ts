// The socat pseudo-terminal pair of test/devices/harness, each end opened with the real `serialport`
// package: the flasher talks through one end, the simulated ROM loader sits at the other. A pty has
// no modem lines (TIOCMSET fails), so DTR/RTS reach the board out of band.
import { SerialPort } from 'serialport';
import { ptyPair } from '../harness/serial-board.js';

export interface PtyPair {
  host: SerialPort;
  board: SerialPort;
  /** Pulls the plug: socat goes, and with it the line between the two ends. */
  unplug(): Promise<void>;
  close(): Promise<void>;
}

export async function openPtyPair(): Promise<PtyPair> {
  const pty = await ptyPair();
  const open = (path: string) =>
    new Promise<SerialPort>((resolve, reject) => {
      const port = new SerialPort({ path, baudRate: 115200 }, (err) => (err ? reject(err) : resolve(port)));
    });
  const host = await open(pty.host);
  const board = await open(pty.board);
  // After unplug() the board's writes fail with EIO, as a vanished USB device's would: not a test error.
  board.on('error', () => {});
  const closePort = (port: SerialPort) =>
    new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
  return {
    host,
    board,
    unplug: () => pty.unplug(),
    async close() {
      await Promise.all([closePort(host), closePort(board)]);
      await pty.unplug();
    },
  };
}
