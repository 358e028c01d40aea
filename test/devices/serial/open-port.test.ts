// Opening a serial port another program holds (its lock taken): tried again for a moment, then a clear
// error naming the likely holder; a port let go during that moment opens.
import { afterEach, describe, expect, it } from 'vitest';
import { openSerialPort } from '../../../src/devices/serial/open-port.js';
import { SerialLink } from '../../../src/devices/serial/serial-link.js';
import { isMothershipError } from '../../../src/errors.js';
import { type PtyPair, ptyPair } from '../harness/serial-board.js';

let pty: PtyPair | undefined;
afterEach(async () => {
  await pty?.unplug();
  pty = undefined;
});

describe('openSerialPort', () => {
  it('says another program has the port open when its lock stays taken', async () => {
    pty = await ptyPair();
    const holder = await SerialLink.open(pty.host);
    try {
      const err = await openSerialPort(pty.host, 115200).catch((e) => e);
      expect(isMothershipError(err, 'MS_SERIAL_OPEN_FAILED')).toBe(true);
      expect(err.message).toContain(`cannot open ${pty.host}`);
      expect(err.message).toContain('Another program has it open');
    } finally {
      await holder.close();
    }
  });

  it('opens a port whose holder lets go while it is being tried', async () => {
    pty = await ptyPair();
    const holder = await SerialLink.open(pty.host);
    const opening = openSerialPort(pty.host, 115200);
    setTimeout(() => void holder.close(), 300);
    const port = await opening;
    expect(port.isOpen).toBe(true);
    await new Promise<void>((r) => port.close(() => r()));
  });

  it('names a port that does not exist', async () => {
    const err = await openSerialPort('/dev/ttyNOSUCH9', 115200).catch((e) => e);
    expect(isMothershipError(err, 'MS_SERIAL_OPEN_FAILED')).toBe(true);
    expect(err.message).toContain('cannot open /dev/ttyNOSUCH9');
    expect(err.message).not.toContain('Another program');
  });
});
