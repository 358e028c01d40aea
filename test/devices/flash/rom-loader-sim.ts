// A simulated ESP32 ROM serial bootloader, written for the tests from Espressif's "Serial Protocol"
// documentation (esptool docs, advanced-topics/serial-protocol): SLIP frames, 8-byte command and
// response headers, the ROM's 4 status bytes, the 0xEF xor checksum, SYNC answered 8 times,
// READ_REG for the chip magic, SPI_ATTACH (8 bytes from the ROM), SPI_SET_PARAMS, CHANGE_BAUDRATE,
// FLASH_DEFL_BEGIN/DATA/END (zlib, written block by block as the ROM does) and SPI_FLASH_MD5 as
// 32 hex characters. It listens only after the auto-reset circuit's sequence put it in download mode.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { constants, createInflate, type Inflate } from 'node:zlib';
import type { ModemSignals } from '../../../src/devices/flash/link.js';

export type SimChip = 'ESP32' | 'ESP32-S3' | 'ESP32-C3';

export interface RomLoaderOptions {
  chip?: SimChip;
  flashSize?: number;
  /** A board without the auto-reset circuit: DTR/RTS do nothing. */
  noAutoReset?: boolean;
  /** Already in download mode at start: someone held BOOT and tapped EN (the flasher's hint). */
  heldInBootloader?: boolean;
  /** Flip one byte of this FLASH_DEFL_DATA block (0-based) on its way to flash: a bad write. */
  corruptBlock?: number;
  /** Called on each FLASH_DEFL_DATA block before it is answered (a test may pull the plug there). */
  onBlock?: (seq: number) => void;
}

const CMD = {
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
} as const;
const ERR_INVALID = 0x05;
const ERR_BAD_CHECKSUM = 0x07;
const ERR_DEFLATE = 0x0b;
const MAGIC: Record<SimChip, number> = { ESP32: 0x00f01d83, 'ESP32-S3': 0x9, 'ESP32-C3': 0x1b31506f };
/** GET_SECURITY_INFO chip ids; the ESP32's ROM predates the command. */
const CHIP_ID: Partial<Record<SimChip, number>> = { 'ESP32-S3': 9, 'ESP32-C3': 5 };
const SYNC_PAYLOAD = Buffer.from([0x07, 0x07, 0x12, 0x20, ...new Array(32).fill(0x55)]);

class Refusal extends Error {
  constructor(readonly code: number) {
    super(`ROM error 0x${code.toString(16)}`);
  }
}

export class SimulatedRomLoader extends EventEmitter {
  readonly chip: SimChip;
  readonly flash: Uint8Array;
  /** Times EN was released (a reset), and of those, into download mode. */
  resets = 0;
  downloadBoots = 0;
  /** Every command opcode received in download mode, in order. */
  readonly commands: number[] = [];
  flashParams: { size: number } | null = null;
  baud = 115200;
  private signals: ModemSignals = { dtr: false, rts: false };
  private inDownloadMode = false;
  private bootTimer: NodeJS.Timeout | undefined;
  private frame: number[] | null = null;
  private escaping = false;
  private queue: Promise<void> = Promise.resolve();
  private spiAttached = false;
  private write: { offset: number; end: number; seq: number; cursor: number; inflate: Inflate } | null = null;

  constructor(
    private readonly line: Duplex,
    private readonly options: RomLoaderOptions = {},
  ) {
    super();
    this.chip = options.chip ?? 'ESP32';
    this.flash = new Uint8Array(options.flashSize ?? 4 * 1024 * 1024).fill(0xff);
    line.on('data', (chunk: Buffer) => this.receive(chunk));
    if (options.heldInBootloader) this.enterDownloadMode();
  }

  /** The host's DTR/RTS, through the auto-reset circuit: RTS alone pulls EN low, DTR alone IO0. */
  setSignals(signals: ModemSignals): void {
    const enWasHigh = !(this.signals.rts && !this.signals.dtr);
    this.signals = { ...signals };
    if (this.options.noAutoReset) return;
    const enHigh = !(signals.rts && !signals.dtr);
    if (!enHigh) {
      clearTimeout(this.bootTimer);
      this.bootTimer = undefined;
      this.inDownloadMode = false;
    } else if (!enWasHigh) {
      // EN's RC delay: the chip leaves reset a moment later and samples IO0 then.
      this.bootTimer = setTimeout(() => this.boot(), 5);
    }
  }

  /** Sum of the flash over [offset, offset + length): what the image's MD5 is compared with. */
  md5(offset: number, length: number): string {
    return createHash('md5')
      .update(this.flash.subarray(offset, offset + length))
      .digest('hex');
  }

  private boot(): void {
    this.resets++;
    const io0Low = this.signals.dtr && !this.signals.rts;
    if (io0Low) this.enterDownloadMode();
    else this.inDownloadMode = false;
    const mode = io0Low
      ? 'boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download'
      : 'boot:0x13 (SPI_FAST_FLASH_BOOT)';
    this.send(Buffer.from(`ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),${mode}\r\n`));
  }

  private enterDownloadMode(): void {
    this.inDownloadMode = true;
    this.downloadBoots++;
    this.write = null;
    this.spiAttached = false;
  }

  private receive(chunk: Buffer): void {
    for (const byte of chunk) {
      if (this.frame === null) {
        if (byte === 0xc0) this.frame = [];
      } else if (this.escaping) {
        this.escaping = false;
        this.frame.push(byte === 0xdc ? 0xc0 : byte === 0xdd ? 0xdb : byte);
      } else if (byte === 0xdb) {
        this.escaping = true;
      } else if (byte === 0xc0) {
        const packet = Buffer.from(this.frame);
        this.frame = packet.length === 0 ? [] : null; // back-to-back C0 C0: the next frame starts
        if (packet.length > 0) this.queue = this.queue.then(() => this.command(packet));
      } else {
        this.frame.push(byte);
      }
    }
  }

  private async command(packet: Buffer): Promise<void> {
    if (!this.inDownloadMode || packet.length < 8 || packet[0] !== 0x00) return;
    const op = packet[1]!;
    const size = packet.readUInt16LE(2);
    const checksum = packet.readUInt32LE(4);
    const data = packet.subarray(8, 8 + size);
    this.commands.push(op);
    try {
      if (data.length !== size) throw new Refusal(ERR_INVALID);
      const {
        value = 0,
        body = Buffer.alloc(0),
        repeat = 1,
      } = (await this.execute(op, data, checksum)) ?? {};
      for (let i = 0; i < repeat; i++) this.respond(op, value, body, 0, 0);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      this.respond(op, 0, Buffer.alloc(0), 1, err.code);
    }
  }

  private async execute(
    op: number,
    data: Buffer,
    checksum: number,
  ): Promise<{ value?: number; body?: Buffer; repeat?: number } | undefined> {
    switch (op) {
      case CMD.SYNC:
        if (!data.equals(SYNC_PAYLOAD)) throw new Refusal(ERR_INVALID);
        return { value: 0x20120707, repeat: 8 };
      case CMD.READ_REG:
        return { value: data.readUInt32LE(0) === 0x40001000 ? MAGIC[this.chip] : 0 };
      case CMD.WRITE_REG:
        return;
      case CMD.GET_SECURITY_INFO: {
        const id = CHIP_ID[this.chip];
        if (id === undefined) throw new Refusal(ERR_INVALID);
        const info = Buffer.alloc(20);
        info.writeUInt32LE(id, 12);
        return { body: info };
      }
      case CMD.SPI_ATTACH:
        if (data.length !== 8) throw new Refusal(ERR_INVALID); // the ROM takes a second word
        this.spiAttached = true;
        return;
      case CMD.SPI_SET_PARAMS:
        if (data.length !== 24 || data.readUInt32LE(4) > this.flash.length) throw new Refusal(ERR_INVALID);
        this.flashParams = { size: data.readUInt32LE(4) };
        return;
      case CMD.CHANGE_BAUDRATE:
        this.baud = data.readUInt32LE(0);
        return;
      case CMD.FLASH_DEFL_BEGIN:
        return this.deflBegin(data);
      case CMD.FLASH_DEFL_DATA:
        return this.deflData(data, checksum);
      case CMD.FLASH_DEFL_END:
        this.write = null;
        return;
      case CMD.SPI_FLASH_MD5: {
        const offset = data.readUInt32LE(0);
        const length = data.readUInt32LE(4);
        if (!this.spiAttached || offset + length > this.flash.length) throw new Refusal(ERR_INVALID);
        return { body: Buffer.from(this.md5(offset, length), 'ascii') };
      }
      default:
        throw new Refusal(ERR_INVALID);
    }
  }

  private deflBegin(data: Buffer): undefined {
    // ESP32: four words; S2/S3/C3 ROMs add a fifth (encrypted write: 0).
    const words = this.chip === 'ESP32' ? 16 : 20;
    if (!this.spiAttached || !this.flashParams || data.length !== words) throw new Refusal(ERR_INVALID);
    const eraseSize = data.readUInt32LE(0);
    const offset = data.readUInt32LE(12);
    const end = offset + eraseSize;
    if (end > this.flashParams.size) throw new Refusal(ERR_INVALID);
    // The ROM erases the whole region (in 4 KB sectors) before answering.
    this.flash.fill(
      0xff,
      offset - (offset % 4096),
      Math.min(this.flash.length, Math.ceil(end / 4096) * 4096),
    );
    this.write = { offset, end, seq: 0, cursor: offset, inflate: createInflate() };
    return undefined;
  }

  private async deflData(data: Buffer, checksum: number): Promise<undefined> {
    const write = this.write;
    if (!write || data.length < 16) throw new Refusal(ERR_INVALID);
    const length = data.readUInt32LE(0);
    const seq = data.readUInt32LE(4);
    const block = data.subarray(16);
    if (block.length !== length || seq !== write.seq) throw new Refusal(ERR_INVALID);
    let sum = 0xef;
    for (const b of block) sum ^= b;
    if (sum !== checksum) throw new Refusal(ERR_BAD_CHECKSUM);
    this.options.onBlock?.(seq);
    const out = await inflateMore(write.inflate, block).catch(() => {
      throw new Refusal(ERR_DEFLATE);
    });
    if (seq === this.options.corruptBlock && out.length > 0) {
      const at = out.length >> 1;
      out[at] = out[at]! ^ 0x01;
    }
    if (write.cursor + out.length > write.end) throw new Refusal(ERR_DEFLATE);
    this.flash.set(out, write.cursor);
    write.cursor += out.length;
    write.seq++;
    return undefined;
  }

  private respond(op: number, value: number, body: Buffer, status: number, error: number): void {
    const packet = Buffer.alloc(8 + body.length + 4);
    packet[0] = 0x01;
    packet[1] = op;
    packet.writeUInt16LE(body.length + 4, 2);
    packet.writeUInt32LE(value >>> 0, 4);
    body.copy(packet, 8);
    packet[8 + body.length] = status;
    packet[9 + body.length] = error;
    this.send(slip(packet));
  }

  private send(bytes: Buffer): void {
    if (!this.line.destroyed) this.line.write(bytes);
  }
}

function slip(packet: Buffer): Buffer {
  const out = [0xc0];
  for (const b of packet) {
    if (b === 0xc0) out.push(0xdb, 0xdc);
    else if (b === 0xdb) out.push(0xdb, 0xdd);
    else out.push(b);
  }
  out.push(0xc0);
  return Buffer.from(out);
}

/** Feeds one compressed block and collects what it decompresses to so far. */
function inflateMore(inflate: Inflate, block: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const onData = (chunk: Buffer) => parts.push(chunk);
    const onError = (err: Error) => {
      inflate.off('data', onData);
      reject(err);
    };
    inflate.on('data', onData);
    inflate.once('error', onError);
    inflate.write(block);
    inflate.flush(constants.Z_SYNC_FLUSH, () => {
      inflate.off('data', onData);
      inflate.off('error', onError);
      resolve(Buffer.concat(parts));
    });
  });
}
