// Picking the ESP32 among the serial ports by the USB bridge's vendor and product id.
import { describe, expect, it } from 'vitest';
import { boardBridge, findBoardPort, type PortInfo } from '../../../src/devices/serial/find-board-port.js';
import { isMothershipError } from '../../../src/errors.js';

const ttyS0: PortInfo = { path: '/dev/ttyS0' };
const cp2102: PortInfo = { path: '/dev/ttyUSB0', vendorId: '10C4', productId: 'EA60', serialNumber: '0001' };
const ch340: PortInfo = { path: '/dev/ttyUSB1', vendorId: '1a86', productId: '7523' };
const s3: PortInfo = { path: '/dev/ttyACM0', vendorId: '303a', productId: '1001' };
const arduino: PortInfo = { path: '/dev/ttyACM1', vendorId: '2341', productId: '0043' };
const list =
  (...p: PortInfo[]) =>
  async () =>
    p;

describe('findBoardPort', () => {
  it('knows the bridges ESP32 boards carry, and nothing else', () => {
    expect(boardBridge(cp2102)).toBe('CP210x');
    expect(boardBridge(ch340)).toBe('CH340');
    expect(boardBridge({ path: 'x', vendorId: '1a86', productId: '55d4' })).toBe('CH9102');
    expect(boardBridge({ path: 'x', vendorId: '0403', productId: '6015' })).toBe('FTDI FT231X');
    expect(boardBridge(s3)).toBe('Espressif native USB');
    expect(boardBridge(arduino)).toBeUndefined();
    expect(boardBridge(ttyS0)).toBeUndefined();
  });

  it('takes the one board among other ports', async () => {
    expect(await findBoardPort({ list: list(ttyS0, arduino, cp2102) })).toBe('/dev/ttyUSB0');
  });

  it('asks when there are several, and refuses to guess when it cannot ask', async () => {
    let offered: string[] = [];
    const chosen = await findBoardPort({
      list: list(cp2102, ch340, s3),
      choose: async (c) => {
        offered = c.map((p) => p.path);
        return c[2]!.path;
      },
    });
    expect(offered).toEqual(['/dev/ttyUSB0', '/dev/ttyUSB1', '/dev/ttyACM0']);
    expect(chosen).toBe('/dev/ttyACM0');
    const err = await findBoardPort({ list: list(cp2102, ch340) }).catch((e) => e);
    expect(isMothershipError(err, 'MS_SERIAL_NO_BOARD')).toBe(true);
    expect(err.message).toContain('/dev/ttyUSB0 (CP210x 0001), /dev/ttyUSB1 (CH340); choose one with --port');
  });

  it('with none, says what it looked for, what it saw, and the dialout hint', async () => {
    const err = await findBoardPort({ list: list(ttyS0, arduino) }).catch((e) => e);
    expect(isMothershipError(err, 'MS_SERIAL_NO_BOARD')).toBe(true);
    expect(err.message).toContain('no ESP32 board found on USB');
    expect(err.message).toContain('Serial ports seen: /dev/ttyS0, /dev/ttyACM1.');
    expect(err.message).toContain('sudo usermod -aG dialout $USER');
  });
});
