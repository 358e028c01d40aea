/**
 * Opens a serial port the way every device command needs it: a port another program holds (its lock is
 * taken) is tried again for a moment, since our own previous command or a board's re-enumeration may be
 * letting it go; then the error says who is likely holding it, or how to get the permission.
 */
import { SerialPort } from 'serialport';
import { ErrorCodes, MothershipError } from '../../errors.js';

export const DIALOUT_HINT =
  "On Linux, serial ports belong to the 'dialout' group: run `sudo usermod -aG dialout $USER`, then log out and in again.";
/** How long a locked port is tried again before giving up. */
const LOCKED_RETRY_MS = 2_000;
const LOCKED_RETRY_STEP_MS = 100;

function openOnce(port: SerialPort): Promise<Error | null> {
  return new Promise((resolve) => port.open((err) => resolve(err ?? null)));
}

export async function openSerialPort(path: string, baudRate: number): Promise<SerialPort> {
  const deadline = Date.now() + LOCKED_RETRY_MS;
  for (;;) {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    const err = await openOnce(port);
    if (!err) return port;
    const locked = /cannot lock port|resource temporarily unavailable|EBUSY/i.test(err.message);
    if (locked && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, LOCKED_RETRY_STEP_MS));
      continue;
    }
    const denied = /permission denied|EACCES/i.test(err.message);
    const hint = denied
      ? `\n${DIALOUT_HINT}`
      : locked
        ? '\nAnother program has it open (a serial monitor, Thonny, screen, another mothership command): close it and try again.'
        : '';
    throw new MothershipError(ErrorCodes.SERIAL_OPEN_FAILED, `cannot open ${path}: ${err.message}${hint}`);
  }
}
