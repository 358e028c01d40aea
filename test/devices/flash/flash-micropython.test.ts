import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { type FlashProgress, flashMicroPython } from '../../../src/devices/flash/flash-micropython.js';
import { type ModemSignals, type SerialLink, serialPortLink } from '../../../src/devices/flash/link.js';
import { ErrorCodes, isMothershipError } from '../../../src/errors.js';
import { openPtyPair, type PtyPair } from './pty-pair.js';
import { type RomLoaderOptions, SimulatedRomLoader } from './rom-loader-sim.js';

/** An image shaped like a MicroPython build: 0xE9 header, code-like runs, random tables, SLIP's bytes. */
function fakeFirmware(length: number): Uint8Array {
  const image = new Uint8Array(length);
  const text = Buffer.from('MicroPython v1.27.0 on ESP32; machine.Pin network.WLAN umqtt ');
  for (let i = 0; i < length; i += 4096) {
    const chunk = (i / 4096) % 3 === 0 ? randomBytes(4096) : Buffer.alloc(4096, text);
    image.set(chunk.subarray(0, Math.min(4096, length - i)), i);
  }
  image.set([0xe9, 0x06, 0x02, 0x20, 0xc0, 0xdb, 0xc0, 0xdb], 0);
  return image;
}

interface Bench {
  pair: PtyPair;
  sim: SimulatedRomLoader;
  link: SerialLink;
  /** DTR/RTS states the flasher set, in order. */
  signals: ModemSignals[];
}

let bench: Bench | undefined;

async function setUp(options: RomLoaderOptions = {}): Promise<Bench> {
  const pair = await openPtyPair();
  const sim = new SimulatedRomLoader(pair.board, options);
  const signals: ModemSignals[] = [];
  // The data and the baud rate go through the real serialport on a pty; a pty has no modem lines,
  // so DTR/RTS go to the simulated board's auto-reset circuit directly.
  const link: SerialLink = {
    ...serialPortLink(pair.host),
    setSignals: async (s) => {
      signals.push(s);
      sim.setSignals(s);
    },
  };
  bench = { pair, sim, link, signals };
  return bench;
}

afterEach(async () => {
  await bench?.pair.close();
  bench = undefined;
});

async function flashError(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('flashing succeeded; expected an error');
    },
    (err: unknown) => err,
  );
}

describe('flashMicroPython against a simulated ESP32 ROM loader on a pseudo-terminal', () => {
  it('writes the image byte for byte at 0x1000 on an ESP32, verifies it and reports progress', async () => {
    const { sim, link } = await setUp({ chip: 'ESP32' });
    const image = fakeFirmware(200_003); // not a multiple of 4: padded with 0xFF
    const progress: FlashProgress[] = [];

    const result = await flashMicroPython(link, image, { onProgress: (p) => progress.push(p) });

    expect(result.chip).toBe('ESP32');
    expect(result.offset).toBe(0x1000);
    expect(Buffer.from(sim.flash.subarray(0x1000, 0x1000 + image.length)).equals(Buffer.from(image))).toBe(
      true,
    );
    expect([...sim.flash.subarray(0x1000 + image.length, 0x1000 + result.size)]).toEqual([0xff]);
    expect(sim.flash[0xfff]).toBe(0xff);
    expect(result.md5).toBe(sim.md5(0x1000, result.size));
    // Reset into the bootloader, then flash commands in the ROM's order, MD5 last.
    expect(sim.downloadBoots).toBeGreaterThanOrEqual(1);
    const ops = sim.commands.filter((op) => op !== 0x08);
    expect(ops.indexOf(0x0d)).toBeLessThan(ops.indexOf(0x0b));
    expect(ops.indexOf(0x0b)).toBeLessThan(ops.indexOf(0x10));
    expect(ops.filter((op) => op === 0x11).length).toBeGreaterThan(10);
    expect(ops.at(-1)).toBe(0x13);
    // Progress climbs to the whole image; the board is then reset to run it, not left in download mode.
    expect(progress.length).toBeGreaterThan(10);
    expect(progress.map((p) => p.written)).toEqual([...progress.map((p) => p.written)].sort((a, b) => a - b));
    expect(progress.at(-1)).toEqual({ written: result.size, total: result.size });
    await expect.poll(() => sim.resets).toBe(sim.downloadBoots + 1);
  });

  it.each(['ESP32-S3', 'ESP32-C3'] as const)('detects an %s and writes at 0 by default', async (chip) => {
    const { sim, link } = await setUp({ chip });
    const image = fakeFirmware(50_000);

    const result = await flashMicroPython(link, image);

    expect(result).toMatchObject({ chip, offset: 0, size: 50_000 });
    expect(Buffer.from(sim.flash.subarray(0, image.length)).equals(Buffer.from(image))).toBe(true);
    expect(result.md5).toBe(createHash('md5').update(image).digest('hex'));
  });

  it('writes where it is told and switches both sides to the baud rate asked for', async () => {
    const { sim, link, pair } = await setUp({ chip: 'ESP32' });
    const image = fakeFirmware(30_000);

    await flashMicroPython(link, image, { offset: 0x10000, baud: 460800 });

    expect(sim.baud).toBe(460800);
    expect(pair.host.baudRate).toBe(460800);
    expect(Buffer.from(sim.flash.subarray(0x10000, 0x10000 + image.length)).equals(Buffer.from(image))).toBe(
      true,
    );
  });

  it('reports a verification error, not success, when a block reaches flash corrupted', async () => {
    const { sim, link } = await setUp({ chip: 'ESP32', corruptBlock: 7 });
    const image = fakeFirmware(100_000);

    const err = await flashError(flashMicroPython(link, image));

    expect(isMothershipError(err, ErrorCodes.FLASH_VERIFY_FAILED)).toBe(true);
    expect((err as Error).message).toMatch(/verification failed.*MD5/);
    // Not reset into a broken firmware: the board stays in its bootloader for another try.
    expect(sim.resets).toBe(sim.downloadBoots);
  });

  it('gives the hold-BOOT hint after a bounded number of resets when the chip never answers', async () => {
    const { sim, link, signals } = await setUp({ chip: 'ESP32', noAutoReset: true });

    const err = await flashError(flashMicroPython(link, fakeFirmware(4096), { connectAttempts: 3 }));

    expect(isMothershipError(err, ErrorCodes.FLASH_NO_BOOTLOADER)).toBe(true);
    expect((err as Error).message).toMatch(/Hold the BOOT button while it connects/);
    // One reset pulse (EN low: RTS without DTR) per attempt, and nothing was answered.
    expect(signals.filter((s) => s.rts && !s.dtr)).toHaveLength(3);
    expect(sim.commands).toEqual([]);
  });

  it('flashes a board without auto-reset once BOOT was held while it reset, as the hint says', async () => {
    const { sim, link } = await setUp({ chip: 'ESP32', noAutoReset: true, heldInBootloader: true });
    const image = fakeFirmware(20_000);

    const result = await flashMicroPython(link, image);

    expect(result.offset).toBe(0x1000);
    expect(Buffer.from(sim.flash.subarray(0x1000, 0x1000 + image.length)).equals(Buffer.from(image))).toBe(
      true,
    );
  });

  it("names the bootloader's reason when it refuses a command (an image larger than the flash)", async () => {
    const { sim, link } = await setUp({ chip: 'ESP32', flashSize: 4 * 1024 * 1024 });

    const err = await flashError(flashMicroPython(link, fakeFirmware(4 * 1024 * 1024)));

    expect(isMothershipError(err, ErrorCodes.FLASH_FAILED)).toBe(true);
    expect((err as Error).message).toMatch(
      /bootloader refused to set SPI flash parameters: received message is invalid \(ROM error 0x05\)/,
    );
    expect(sim.commands).not.toContain(0x10); // nothing erased
  });

  it('fails clearly when the line goes away in the middle of the write', async () => {
    const { link, pair } = await setUp({
      chip: 'ESP32',
      onBlock: (seq) => {
        if (seq === 5) void pair.unplug();
      },
    });

    const err = await flashError(flashMicroPython(link, fakeFirmware(100_000)));

    expect(isMothershipError(err, ErrorCodes.FLASH_LINK_CLOSED)).toBe(true);
    expect((err as Error).message).toMatch(/serial line to the board closed while flashing/);
  });

  it('says the port is closed, not that the chip is silent, when given a closed port', async () => {
    const { pair, signals, link } = await setUp();
    await new Promise<void>((resolve) => pair.host.close(() => resolve()));

    const err = await flashError(flashMicroPython(link, fakeFirmware(4096)));

    expect(isMothershipError(err, ErrorCodes.FLASH_LINK_CLOSED)).toBe(true);
    expect((err as Error).message).toMatch(/serial port is not open/);
    expect(signals).toEqual([]);
  });

  it('says so when the port has no modem lines to reset the board with', async () => {
    const { pair, sim } = await setUp();
    // The plain serialport adapter: on a pty, serialport's set({dtr, rts}) fails (no TIOCMSET).
    const err = await flashError(flashMicroPython(serialPortLink(pair.host), fakeFirmware(4096)));

    expect(isMothershipError(err, ErrorCodes.FLASH_FAILED)).toBe(true);
    expect((err as Error).message).toMatch(/cannot set DTR\/RTS on the serial port .*ioctl/);
    expect((err as Error).message).toMatch(/without auto-reset: hold BOOT, tap EN\/RESET, then release BOOT/);
    expect(sim.resets).toBe(0);
    expect(sim.commands).toEqual([]);
  });

  it('told to, goes on by hand on a port without modem lines: asks for BOOT and EN, then for EN to run it', async () => {
    const { pair, sim } = await setUp({ heldInBootloader: true });
    const image = fakeFirmware(30_001);
    const asked: string[] = [];

    const result = await flashMicroPython(serialPortLink(pair.host), image, {
      onHandReset: (m) => asked.push(m),
    });

    expect(Buffer.from(sim.flash.subarray(0x1000, 0x1000 + image.length)).equals(Buffer.from(image))).toBe(
      true,
    );
    expect(result.md5).toBe(sim.md5(0x1000, result.size));
    expect(asked).toHaveLength(2);
    expect(asked[0]).toMatch(
      /cannot set DTR\/RTS .*ioctl.*: hold BOOT, tap EN\/RESET, then release BOOT now/,
    );
    expect(asked[1]).toMatch(/written and verified: tap EN\/RESET to start it/);
    expect(sim.resets).toBe(0);
  });

  it('by hand, when nobody puts the board in its bootloader, says the port cannot reset it and what to press', async () => {
    const { pair, sim } = await setUp();
    const asked: string[] = [];

    const err = await flashError(
      flashMicroPython(serialPortLink(pair.host), fakeFirmware(4096), {
        onHandReset: (m) => asked.push(m),
        connectAttempts: 2,
      }),
    );

    expect(isMothershipError(err, ErrorCodes.FLASH_NO_BOOTLOADER)).toBe(true);
    expect((err as Error).message).toMatch(
      /no answer from the ESP32 bootloader, and this port cannot reset the board \(no DTR\/RTS\): hold BOOT, tap EN\/RESET, then release BOOT, then run this again/,
    );
    expect(asked).toHaveLength(1);
    expect(sim.commands).toEqual([]);
  });

  it('refuses an empty image before touching the board', async () => {
    const { signals, link } = await setUp();

    const err = await flashError(flashMicroPython(link, new Uint8Array(0)));

    expect(isMothershipError(err, ErrorCodes.FLASH_FAILED)).toBe(true);
    expect(signals).toEqual([]);
  });
});
