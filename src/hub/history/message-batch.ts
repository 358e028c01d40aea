/**
 * Messages handed from the broker's thread to the history worker, packed into one ArrayBuffer that is
 * transferred, not cloned. A broker payload is a view into the frame it came in, which may view a larger
 * read buffer: structured clone copies the whole ArrayBuffer a view is on (measured: 0.5-0.9 ms a
 * message for 64-byte views into 64 KiB buffers, 2-4 µs for payloads in buffers of their own), while
 * packing copies only the bytes the history keeps (1-2 µs a message).
 *
 * One message: flags u8 (qos bits 0-1, retain bit 2, client id bit 3, properties bit 4), time f64,
 * size u32 (the payload's size as published), topic and client id as batch strings, properties
 * u32 + store-codec JSON, payload u32 + bytes (a prefix: what parsing and the message log can use).
 *
 * A batch string is u32: below 2^31 the length of the UTF-8 that follows, which becomes the batch's
 * next string; from 2^31 up, a reference to an earlier one (its number + 2^31). Boards publish to the
 * same few topics, so most messages reference their topic and client id instead of encoding them on
 * the broker's thread and decoding them on the worker's (~1 µs a message on each, measured).
 */
import type { Message, QoS } from '../../broker/types.js';
// The codec alone: the worker loads this module too, and the whole store is not its business.
import { encodeJson } from '../../store/sqlite/codec.js';

/** A message as the writer gets it, before parsing. */
export interface UnpackedMessage {
  topic: string;
  t: number;
  qos: QoS;
  retain: boolean;
  clientId: string | undefined;
  /** v5 properties in the store's JSON codec (Buffers as base64), as the message log keeps them. */
  properties: string | undefined;
  /** The payload's size as published. */
  size: number;
  /** Its first bytes: all of it when it is small enough to parse, else what the message log keeps. */
  payload: Buffer;
}

/** What one hand-over carries. */
export interface PackedBatch {
  buffer: ArrayBuffer;
  length: number;
  count: number;
}

const HEADER = 1 + 8 + 4 + 4 + 4 + 4 + 4;
const REFERENCE = 0x8000_0000;
/** Strings looked up per batch at most (a bound on the map); later new ones are sent whole each time. */
const MAX_STRINGS = 4096;
const FIRST_CHUNK = 64 * 1024;

/** Appends messages to a growing buffer; take() hands the buffer over and starts afresh. */
export class BatchPacker {
  private buf: Buffer | undefined;
  /** Writes the numbers into `buf`: DataView's methods compile to stores, Buffer's check their arguments. */
  private view: DataView | undefined;
  private p = 0;
  private n = 0;
  /** The batch's strings so far, by number. */
  private readonly strings = new Map<string, number>();
  private whole = 0;

  /**
   * `keepBytes(size)`: how many payload bytes the writer needs for a payload of that size (it parses
   * small payloads whole; of larger ones the message log keeps a prefix).
   */
  constructor(private readonly keepBytes: (size: number) => number) {}

  get count(): number {
    return this.n;
  }

  get bytes(): number {
    return this.p;
  }

  append(message: Message, clientId: string | undefined): void {
    const keep = Math.min(message.payload.length, this.keepBytes(message.payload.length));
    const properties = message.properties === undefined ? undefined : encodeJson(message.properties);
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    const room =
      HEADER + 3 * (message.topic.length + (clientId?.length ?? 0) + (properties?.length ?? 0)) + keep;
    const buf = this.reserve(room);
    const view = this.view!;
    let p = this.p;
    buf[p] =
      message.qos | (message.retain ? 4 : 0) | (clientId !== undefined ? 8 : 0) | (properties ? 16 : 0);
    view.setFloat64(p + 1, message.receivedAt, true);
    view.setUint32(p + 9, message.payload.length, true);
    p += 13;
    p = this.writeBatchString(buf, view, p, message.topic);
    p = this.writeBatchString(buf, view, p, clientId ?? '');
    p = writeString(buf, view, p, properties ?? '');
    view.setUint32(p, keep, true);
    p += 4;
    // The whole payload (nearly always): set() without the view copy() makes of a part.
    if (keep === message.payload.length) buf.set(message.payload, p);
    else buf.set(message.payload.subarray(0, keep), p);
    p += keep;
    this.p = p;
    this.n++;
  }

  /** The packed messages (the buffer is the receiver's from then on), or undefined when there are none. */
  take(): PackedBatch | undefined {
    if (!this.buf || this.n === 0) return undefined;
    const batch = { buffer: this.buf.buffer as ArrayBuffer, length: this.p, count: this.n };
    this.buf = undefined;
    this.view = undefined;
    this.p = 0;
    this.n = 0;
    this.strings.clear();
    this.whole = 0;
    return batch;
  }

  private writeBatchString(buf: Buffer, view: DataView, p: number, text: string): number {
    const known = this.strings.get(text);
    if (known !== undefined) {
      view.setUint32(p, REFERENCE + known, true);
      return p + 4;
    }
    // Every string sent whole gets the next number; past MAX_STRINGS new ones are no longer looked up.
    if (this.strings.size < MAX_STRINGS) this.strings.set(text, this.whole);
    this.whole++;
    return writeString(buf, view, p, text);
  }

  private reserve(room: number): Buffer {
    if (this.buf && this.p + room <= this.buf.length) return this.buf;
    // An unpooled buffer: its ArrayBuffer is its own, so it can be transferred.
    const grown = Buffer.allocUnsafeSlow(Math.max(FIRST_CHUNK, 2 * (this.buf?.length ?? 0), this.p + room));
    this.buf?.copy(grown, 0, 0, this.p);
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
    return grown;
  }
}

function writeString(buf: Buffer, view: DataView, p: number, text: string): number {
  // Most messages have no properties: Buffer#write costs a native call even for ''.
  const n = text === '' ? 0 : buf.write(text, p + 4, 'utf8');
  view.setUint32(p, n, true);
  return p + 4 + n;
}

/**
 * Reads a packed batch one message at a time into its own fields: the writer goes through a thousand
 * messages a second and keeps no object per message (what it keeps goes into number arrays and
 * blocks), so nothing a message leaves behind outlives the commit it is written in.
 */
export class BatchReader {
  readonly buf: Buffer;
  private p = 0;
  private readonly end: number;
  private readonly strings: string[] = [];
  /** Where each batch string's UTF-8 starts in `buf`, by number (its end: start + byteLength). */
  private readonly stringStarts: number[] = [];
  private readonly stringEnds: number[] = [];
  /** Where the last batchString()'s UTF-8 is in `buf`. */
  private lastStart = 0;
  private lastEnd = 0;
  topic = '';
  t = 0;
  qos: QoS = 0;
  retain = false;
  clientId: string | undefined = undefined;
  /** Where the client id's UTF-8 is in `buf`: the message log copies it from there. */
  clientStart = 0;
  clientEnd = 0;
  /** v5 properties in the store's JSON codec, as the message log keeps them. */
  properties: string | undefined = undefined;
  /** The payload's size as published. */
  size = 0;
  /** Where the payload's first bytes (all of it when small enough to parse) are in `buf`. */
  payloadStart = 0;
  payloadEnd = 0;

  /** A DataView of `buf`. Reads the numbers: its methods compile to loads, Buffer's check their arguments. */
  readonly view: DataView;

  constructor(batch: PackedBatch) {
    this.buf = Buffer.from(batch.buffer, 0, batch.length);
    this.view = new DataView(batch.buffer, 0, batch.length);
    this.end = batch.length;
  }

  /** Moves to the next message; false after the last. */
  next(): boolean {
    if (this.p >= this.end) return false;
    const view = this.view;
    const p = this.p;
    const flags = view.getUint8(p);
    this.qos = (flags & 3) as QoS;
    this.retain = (flags & 4) !== 0;
    this.t = view.getFloat64(p + 1, true);
    this.size = view.getUint32(p + 9, true);
    this.p = p + 13;
    this.topic = this.batchString();
    const client = this.batchString();
    this.clientId = flags & 8 ? client : undefined;
    this.clientStart = this.lastStart;
    this.clientEnd = this.lastEnd;
    const propertiesEnd = this.p + 4 + view.getUint32(this.p, true);
    this.properties = flags & 16 ? this.buf.toString('utf8', this.p + 4, propertiesEnd) : undefined;
    this.payloadStart = propertiesEnd + 4;
    this.payloadEnd = this.payloadStart + view.getUint32(propertiesEnd, true);
    this.p = this.payloadEnd;
    return true;
  }

  private batchString(): string {
    const head = this.view.getUint32(this.p, true);
    this.p += 4;
    if (head >= REFERENCE) {
      const n = head - REFERENCE;
      this.lastStart = this.stringStarts[n]!;
      this.lastEnd = this.stringEnds[n]!;
      return this.strings[n]!;
    }
    const text = head === 0 ? '' : this.buf.toString('utf8', this.p, this.p + head);
    this.lastStart = this.p;
    this.lastEnd = this.p + head;
    this.p += head;
    this.strings.push(text);
    this.stringStarts.push(this.lastStart);
    this.stringEnds.push(this.lastEnd);
    return text;
  }
}
