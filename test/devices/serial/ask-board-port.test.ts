// Choosing among several boards at the prompt, with the ports serialport's list() gives on Linux.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { askBoardPort } from '../../../src/devices/serial/ask-board-port.js';
import { findBoardPort, type PortInfo } from '../../../src/devices/serial/find-board-port.js';
import { isMothershipError } from '../../../src/errors.js';

/** As serialport's list() reports a CP2102 DevKit, a CH340 board, an S3's native USB and the PC's UART. */
const LIST: PortInfo[] = [
  { path: '/dev/ttyS0' },
  {
    path: '/dev/ttyUSB0',
    manufacturer: 'Silicon Labs',
    serialNumber: '0001',
    vendorId: '10c4',
    productId: 'ea60',
  },
  { path: '/dev/ttyUSB1', manufacturer: '1a86', vendorId: '1a86', productId: '7523' },
  {
    path: '/dev/ttyACM0',
    manufacturer: 'Espressif',
    serialNumber: 'F4:12:FA:00:11:22',
    vendorId: '303a',
    productId: '1001',
  },
];

function terminal() {
  const input = new PassThrough();
  const output = new PassThrough();
  let shown = '';
  output.on('data', (d) => (shown += d));
  /** Resolves once the prompt has been asked `n` times. */
  const asked = async (n: number) => {
    while ((shown.match(/Which one \(1-3\)\? /g) ?? []).length < n) await new Promise((r) => setImmediate(r));
  };
  return { input, output, shown: () => shown, asked };
}

describe('askBoardPort', () => {
  it('lists the boards only, numbered, and asks again until the answer is one of them', async () => {
    const t = terminal();
    const chosen = findBoardPort({
      list: async () => LIST,
      choose: (c) => askBoardPort(c, t.input, t.output),
    });
    await t.asked(1);
    t.input.write('4\n');
    await t.asked(2);
    t.input.write('two\n');
    await t.asked(3);
    t.input.write('3\n');
    expect(await chosen).toBe('/dev/ttyACM0');
    expect(t.shown()).toContain(
      'Several boards are plugged in:\n  1) /dev/ttyUSB0 (CP210x 0001)\n  2) /dev/ttyUSB1 (CH340)\n  3) /dev/ttyACM0 (Espressif native USB F4:12:FA:00:11:22)\n',
    );
    expect(t.shown()).not.toContain('ttyS0');
  });

  it('when the input ends without an answer (Ctrl-D), says to give --port rather than hanging', async () => {
    const t = terminal();
    const chosen = askBoardPort(LIST.slice(1), t.input, t.output);
    await t.asked(1);
    t.input.end();
    const err = await chosen.catch((e) => e);
    expect(isMothershipError(err, 'MS_SERIAL_NO_BOARD')).toBe(true);
    expect(err.message).toBe('no board chosen; give its port with --port');
  });
});
