// Writes a MicroPython firmware image to a blank ESP32 through its ROM serial bootloader, driving
// esptool-js (Espressif's own JavaScript esptool) over a Node serial link. ROM loader only, like
// `esptool --no-stub`: the flasher stub is chip code we could not test without the chip, while
// everything said here is checked against a simulated ROM loader (test/devices/flash/).
import { createHash } from 'node:crypto';
import type { ESPLoader } from 'esptool-js';
import { ErrorCodes, MothershipError } from '../../errors.js';
import type { ModemSignals, SerialLink } from './link.js';
import { HAND_BOOT, noModemLines, WebSerialPort } from './web-serial-port.js';

export interface FlashProgress {
  /** Image bytes written so far (estimated from the compressed bytes the chip acknowledged). */
  written: number;
  total: number;
}

export interface FlashOptions {
  /** Where the image goes; default: the chip's bootloader offset (0x1000 on ESP32, 0 on S3/C3). */
  offset?: number;
  onProgress?: (progress: FlashProgress) => void;
  /** Baud rate for the transfer after connecting at the ROM's 115200 (needs link.setBaudRate). */
  baud?: number;
  /** Reset-and-sync rounds before giving up (each tries SYNC 5 times). Default 7, as esptool. */
  connectAttempts?: number;
  /** esptool-js's own progress lines, for a verbose mode. */
  onLog?: (line: string) => void;
  /**
   * For a port without modem lines (setting DTR/RTS fails: a pseudo-terminal, some adapters), which
   * cannot reset the board: given this, the flasher goes on as with a board without auto-reset,
   * asking the user through it to hold BOOT and tap EN, and at the end to tap EN to run the image.
   * Without it such a port is an error. Default connectAttempts is then 40 (about 20 s to do it).
   */
  onHandReset?: (message: string) => void;
}

export interface FlashResult {
  /** As esptool names it: 'ESP32', 'ESP32-S3', 'ESP32-C3'... */
  chip: string;
  offset: number;
  /** Bytes written (the image, padded to 4 bytes with 0xFF as the ROM requires). */
  size: number;
  md5: string;
}

const ROM_BAUD = 115200;
const ESP_SPI_ATTACH = 0x0d;
const ESP_SPI_SET_PARAMS = 0x0b;
const ESP_CHANGE_BAUDRATE = 0x0f;
const ESP_SPI_FLASH_MD5 = 0x13;
/** The ROM loader's data block; esptool's 16 KB blocks are for its stub. */
const ROM_FLASH_WRITE_SIZE = 0x400;
/** Every ESP32 module MicroPython's generic images target has at least this much flash. */
const MIN_FLASH_SIZE = 4 * 1024 * 1024;

const BOOT_HINT =
  'no answer from the ESP32 bootloader. Hold the BOOT button while it connects: run this again ' +
  'holding BOOT (on boards without auto-reset: hold BOOT, tap EN/RESET, then run it); ' +
  'also close other programs using the port, and try another USB cable (charge-only ones carry no data)';
/** Sync rounds by hand: each is 5 SYNCs of 100 ms, so about 20 s for the user to press the buttons. */
const HAND_CONNECT_ATTEMPTS = 40;

/**
 * Flashes `image` and verifies it by MD5; leaves the board reset into the new firmware (or, by hand,
 * asks for the reset through onHandReset). The link
 * stays open and its stream paused, holding what the board printed since: resume() it to read on.
 */
export async function flashMicroPython(
  link: SerialLink,
  image: Uint8Array,
  options: FlashOptions = {},
): Promise<FlashResult> {
  if (image.length === 0) {
    throw new MothershipError(ErrorCodes.FLASH_FAILED, 'the firmware image is empty');
  }
  // A closed port would only look like a silent chip (and earn the BOOT hint) to esptool-js.
  if (link.stream.destroyed || !link.stream.writable || link.isOpen?.() === false) {
    throw new MothershipError(ErrorCodes.FLASH_LINK_CLOSED, 'the serial port is not open');
  }
  let linkGone: ((err: Error) => void) | undefined;
  const gone = new Promise<never>((_, reject) => {
    linkGone = (err) =>
      reject(
        new MothershipError(
          ErrorCodes.FLASH_LINK_CLOSED,
          `the serial line to the board closed while flashing (${err.message}); ` +
            'the board keeps its bootloader in ROM: plug it back and flash again',
          { cause: err },
        ),
      );
  });
  gone.catch(() => {});
  // Released lines (EN and IO0 high: the board runs on) tell whether this port has modem lines at all.
  let byHand = false;
  try {
    await link.setSignals({ dtr: false, rts: false });
  } catch (err) {
    const e = noModemLines(err);
    if (!options.onHandReset) {
      e.message += `; on a board without auto-reset: ${HAND_BOOT}, then run this again`;
      throw e;
    }
    byHand = true;
    options.onHandReset(`${e.message}: ${HAND_BOOT} now; waiting for the bootloader`);
  }
  const port = new WebSerialPort(link, (err) => linkGone?.(err));
  // Loaded on use: esptool-js takes about half a second to import, which no other command should pay.
  const { ESPError, ESPLoader, Transport } = await import('esptool-js');
  // Its Transport's trace lines would go to console.log whatever its tracing flag says.
  const transport = new Transport(port as never, false);
  transport.trace = (line: string) => options.onLog?.(line);
  const loader = new ESPLoader({
    transport,
    baudrate: options.baud ?? ROM_BAUD,
    romBaudrate: ROM_BAUD,
    terminal: {
      clean: () => {},
      writeLine: (line) => options.onLog?.(line),
      write: (text) => options.onLog?.(text),
    },
  });
  const work = run(loader, link, image, options, byHand).catch((err: unknown) => {
    // esptool-js's word for "no SYNC answer after every reset round".
    if (err instanceof ESPError && /failed to connect/i.test(err.message)) {
      const hint = byHand
        ? `no answer from the ESP32 bootloader, and this port cannot reset the board (no DTR/RTS): ${HAND_BOOT}, then run this again; also close other programs using the port`
        : BOOT_HINT;
      throw new MothershipError(ErrorCodes.FLASH_NO_BOOTLOADER, hint, { cause: err });
    }
    throw err;
  });
  // esptool-js would go on polling a dead line until its own timeouts: the link's end wins the race.
  work.catch(() => {});
  try {
    return await Promise.race([work, gone]);
  } catch (err) {
    throw asFlashError(err);
  } finally {
    await port.close();
    port.dispose();
  }
}

async function run(
  loader: ESPLoader,
  link: SerialLink,
  image: Uint8Array,
  options: FlashOptions,
  byHand: boolean,
): Promise<FlashResult> {
  await loader.detectChip(
    byHand ? 'no_reset' : 'default_reset',
    options.connectAttempts ?? (byHand ? HAND_CONNECT_ATTEMPTS : 7),
  );
  const chip = loader.chip.CHIP_NAME;
  const offset = options.offset ?? loader.chip.BOOTLOADER_FLASH_OFFSET ?? 0;
  const padded = padTo4(image);

  // The ROM loader leaves SPI flash alone until told which pins and what size it is.
  await loader.checkCommand('attach SPI flash', ESP_SPI_ATTACH, words(0, 0));
  const flashSize = Math.max(MIN_FLASH_SIZE, 2 ** Math.ceil(Math.log2(offset + padded.length)));
  await loader.checkCommand(
    'set SPI flash parameters',
    ESP_SPI_SET_PARAMS,
    words(0, flashSize, 64 * 1024, 4 * 1024, 256, 0xffff),
  );
  if (options.baud && options.baud !== ROM_BAUD && link.setBaudRate) {
    await changeBaud(loader, link, options.baud);
  }
  loader.FLASH_WRITE_SIZE = ROM_FLASH_WRITE_SIZE;
  await loader.writeFlash({
    fileArray: [{ data: padded, address: offset }],
    flashMode: 'keep',
    flashFreq: 'keep',
    flashSize: 'keep',
    eraseAll: false,
    compress: true,
    reportProgress: (_file, sent, total) =>
      options.onProgress?.({
        written: sent >= total ? padded.length : Math.floor((sent / total) * padded.length),
        total: padded.length,
      }),
  });

  const md5 = createHash('md5').update(padded).digest('hex');
  const flashMd5 = await flashMd5sum(loader, offset, padded.length);
  if (flashMd5 !== md5) {
    throw new MothershipError(
      ErrorCodes.FLASH_VERIFY_FAILED,
      `verification failed: the flash at 0x${offset.toString(16)} has MD5 ${flashMd5}, the image ${md5}; ` +
        'flash again (a lower baud rate or another USB cable helps)',
    );
  }
  if (byHand) options.onHandReset?.('written and verified: tap EN/RESET to start it');
  else await hardReset(link);
  return { chip, offset, size: padded.length, md5 };
}

/**
 * SPI_FLASH_MD5 as the ROM answers it: 32 hex characters in ASCII. (esptool-js 0.7's flashMd5sum
 * hex-encodes those characters again, right only for its stub's 16 raw bytes.)
 */
async function flashMd5sum(loader: ESPLoader, offset: number, length: number): Promise<string> {
  const timeout = Math.max(3000, (8000 * length) / 1e6); // esptool's 8 s per MB, 3 s at least
  const answer = await loader.checkCommand(
    'calculate MD5',
    ESP_SPI_FLASH_MD5,
    words(offset, length, 0, 0),
    0,
    32,
    timeout,
  );
  return Buffer.from(answer as Uint8Array)
    .toString('ascii')
    .toLowerCase();
}

/** ESP32 ROMs take CHANGE_BAUDRATE (new rate, 0 for "from the ROM"); then both sides switch. */
async function changeBaud(loader: ESPLoader, link: SerialLink, baud: number): Promise<void> {
  await loader.command(ESP_CHANGE_BAUDRATE, words(baud, 0));
  await link.setBaudRate!(baud);
  await loader.transport.drainInput();
  await loader.readReg(loader.CHIP_DETECT_MAGIC_REG_ADDR);
}

/** EN low then high with IO0 released: the chip boots what is now in flash. */
async function hardReset(link: SerialLink): Promise<void> {
  const set = (s: ModemSignals) => link.setSignals(s);
  await set({ dtr: false, rts: true });
  await new Promise((r) => setTimeout(r, 100));
  await set({ dtr: false, rts: false });
}

function padTo4(image: Uint8Array): Uint8Array {
  if (image.length % 4 === 0) return image;
  const padded = new Uint8Array(image.length + 4 - (image.length % 4)).fill(0xff);
  padded.set(image);
  return padded;
}

function words(...values: number[]): Uint8Array {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => {
    out.writeUInt32LE(v >>> 0, i * 4);
  });
  return new Uint8Array(out);
}

/** The ROM loader's error byte (esptool's serial protocol documentation). */
const ROM_ERRORS: Record<number, string> = {
  5: 'received message is invalid',
  6: 'failed to act on received message',
  7: 'invalid CRC in message',
  8: 'flash write error (read back differs)',
  9: 'flash read error',
  10: 'flash read length error',
  11: 'deflate error',
};

function asFlashError(err: unknown): MothershipError {
  if (err instanceof MothershipError) return err;
  const message = err instanceof Error ? err.message : String(err);
  // esptool-js words a refused command "Failed to <what> failed with status <status>,<error>".
  const refused = /^Failed to (.+?) failed with status \d+,(\d+)/.exec(message);
  if (refused) {
    const code = Number(refused[2]);
    const reason = ROM_ERRORS[code] ?? 'unknown error';
    return new MothershipError(
      ErrorCodes.FLASH_FAILED,
      `the bootloader refused to ${refused[1]}: ${reason} (ROM error 0x${code.toString(16).padStart(2, '0')})`,
      { cause: err },
    );
  }
  return new MothershipError(ErrorCodes.FLASH_FAILED, `flashing failed: ${message}`, { cause: err });
}
