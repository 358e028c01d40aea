/**
 * Flashes a MicroPython image file onto the board on a serial port path: what `provision --micropython`
 * runs. On a port without modem lines it goes on by hand, asking for BOOT and EN through onHandReset.
 */
import { readFile } from 'node:fs/promises';
import { ErrorCodes, MothershipError } from '../../errors.js';
import { openSerialPort } from '../serial/open-port.js';
import { flashMicroPython } from './flash-micropython.js';
import { serialPortLink } from './link.js';

export async function flashImageFile(
  path: string,
  imageFile: string,
  onProgress: (done: number, total: number) => void,
  onHandReset?: (message: string) => void,
): Promise<void> {
  let image: Buffer;
  try {
    image = await readFile(imageFile);
  } catch (err) {
    throw new MothershipError(
      ErrorCodes.FLASH_FAILED,
      `cannot read the MicroPython image ${imageFile}: ${(err as Error).message}`,
    );
  }
  const port = await openSerialPort(path, 115200);
  try {
    await flashMicroPython(serialPortLink(port), new Uint8Array(image), {
      onProgress: (p) => onProgress(p.written, p.total),
      onHandReset,
    });
  } finally {
    // The flasher leaves the line open (paused) for whoever reads the boot output next: provision reopens it.
    if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
  }
}
