/**
 * The message log keeps a topic's messages of one commit in one row (a block), not a row each: at
 * 1,000 messages a second over 40 topics that is 40 INSERTs a second instead of 1,000, and trimming
 * deletes whole blocks. This is a block's encoding, oldest message first:
 *
 *   t f64, flags u8 (qos bits 0-1, retain bit 2, client id bit 3, properties bit 4), size u32 (the
 *   payload's size as published), [client id u16 + UTF-8], [properties u32 + UTF-8], payload u32 + bytes.
 */
import type { UnpackedMessage } from './message-batch.js';

/** What the log keeps of one message: all but its topic (the block's), the payload cut to the cap. */
export type BlockMessage = Omit<UnpackedMessage, 'topic'>;

/** What a block keeps of a message besides its payload bytes. */
export type BlockHeader = Omit<BlockMessage, 'payload'>;

/**
 * Of messages whose payloads (oldest first) take `sizes` bytes each as kept (the first `length` of
 * them), where the newest ones the log serves start: at most `maxCount`, and at most `maxBytes`
 * together, the newest one always.
 */
export function servedFrom(
  sizes: ArrayLike<number>,
  maxCount: number,
  maxBytes: number,
  length = sizes.length,
): number {
  let from = length;
  let bytes = 0;
  while (from > 0 && length - from < maxCount) {
    const size = Math.min(sizes[from - 1]!, maxBytes);
    if (from < length && bytes + size > maxBytes) break;
    bytes += size;
    from--;
  }
  return from;
}

/**
 * A message as the block builder reads it: its header, and where its payload and client id's UTF-8 sit
 * in `buf` (the history writer's hand-over buffer, BatchReader), `view` being a DataView of `buf`.
 */
export interface BlockSource extends BlockHeader {
  buf: Uint8Array;
  view: DataView;
  payloadStart: number;
  payloadEnd: number;
  /** The client id's UTF-8 in `buf` (when clientId is defined). */
  clientStart: number;
  clientEnd: number;
}

/** Copies of at most this many bytes go four at a time through DataViews, larger ones through set(). */
const SMALL_COPY = 256;

/**
 * `n` bytes of `src` from `from` into `dst` at `at`. set() needs a view made per copy (garbage at a
 * thousand copies a second) and, for a payload of a board's size, takes twice as long (~70 vs ~30 ns
 * for 79 bytes, measured); a byte loop, ~70 ns too.
 */
function copyBytes(
  src: Uint8Array,
  srcView: DataView,
  from: number,
  dst: Uint8Array,
  dstView: DataView,
  at: number,
  n: number,
): void {
  if (n > SMALL_COPY) {
    dst.set(src.subarray(from, from + n), at);
    return;
  }
  let k = 0;
  for (; k + 4 <= n; k += 4) dstView.setUint32(at + k, srcView.getUint32(from + k, true), true);
  for (; k < n; k++) dst[at + k] = src[from + k]!;
}

/** A builder whose buffer grew past this is not kept for another block. */
const KEPT_BUILDER_BYTES = 64 * 1024;

/**
 * Builds a block message by message, straight from the bytes a payload sits in (the history writer's
 * hand-over buffer), with no object kept or made per message: `times` and `kept` say where each one is.
 * reset() empties it for the next block (the writer keeps a few, instead of one new per topic and commit).
 */
export class BlockBuilder {
  private buf: Buffer;
  /** Writes the numbers: DataView's methods compile to stores, Buffer's check their arguments first. */
  private view: DataView;
  private p = 0;
  private n = 0;
  /** Each message's start in the block (the first `count`; grown, never shrunk: reset() keeps them). */
  private starts = new Float64Array(32);
  /** Each message's time, oldest first. */
  times = new Float64Array(32);
  /** Each message's payload bytes as kept (cut to the cap). */
  kept = new Float64Array(32);

  constructor(private readonly maxBytes: number) {
    this.buf = Buffer.allocUnsafe(4096);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  get count(): number {
    return this.n;
  }

  /** Whether reset() leaves it small enough to keep for another block. */
  get reusable(): boolean {
    return this.buf.length <= KEPT_BUILDER_BYTES;
  }

  reset(): void {
    this.p = 0;
    this.n = 0;
  }

  /** Appends a message, its payload cut to the cap. */
  append(m: BlockSource): void {
    const keep = Math.min(m.payloadEnd - m.payloadStart, this.maxBytes);
    const clientBytes = m.clientId === undefined ? 0 : m.clientEnd - m.clientStart;
    let room = 8 + 1 + 4 + 4 + keep;
    if (m.clientId !== undefined) room += 2 + clientBytes;
    if (m.properties !== undefined) room += 4 + 3 * m.properties.length;
    const buf = this.reserve(room);
    const view = this.view;
    let p = this.p;
    if (this.n === this.times.length) this.growIndex();
    this.starts[this.n] = p;
    this.times[this.n] = m.t;
    this.kept[this.n] = keep;
    this.n++;
    view.setFloat64(p, m.t, true);
    view.setUint8(
      p + 8,
      m.qos | (m.retain ? 4 : 0) | (m.clientId !== undefined ? 8 : 0) | (m.properties ? 16 : 0),
    );
    view.setUint32(p + 9, m.size, true);
    p += 13;
    if (m.clientId !== undefined) {
      // The client id's bytes as they came in the hand-over: no encoding on this side.
      view.setUint16(p, clientBytes, true);
      copyBytes(m.buf, m.view, m.clientStart, buf, view, p + 2, clientBytes);
      p += 2 + clientBytes;
    }
    if (m.properties) {
      const n = buf.write(m.properties, p + 4, 'utf8');
      view.setUint32(p, n, true);
      p += 4 + n;
    }
    view.setUint32(p, keep, true);
    p += 4;
    copyBytes(m.buf, m.view, m.payloadStart, buf, view, p, keep);
    this.p = p + keep;
  }

  /** The block of the messages from the `first`-th on. */
  block(first = 0): Buffer {
    return this.buf.subarray(first < this.n ? this.starts[first]! : this.p, this.p);
  }

  private growIndex(): void {
    const grow = (a: Float64Array) => {
      const grown = new Float64Array(2 * a.length);
      grown.set(a);
      return grown;
    };
    this.starts = grow(this.starts);
    this.times = grow(this.times);
    this.kept = grow(this.kept);
  }

  private reserve(room: number): Buffer {
    if (this.p + room <= this.buf.length) return this.buf;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.p + room));
    this.buf.copy(grown, 0, 0, this.p);
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
    return grown;
  }
}

/** One block of messages, each payload cut to `maxBytes`. */
export function encodeBlock(messages: readonly BlockMessage[], maxBytes: number): Buffer {
  const builder = new BlockBuilder(maxBytes);
  for (const m of messages) {
    // The client id's UTF-8 and the payload side by side, as a hand-over would have them.
    const client = Buffer.from(m.clientId ?? '', 'utf8');
    const buf = Buffer.concat([client, m.payload]);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    const at = {
      clientStart: 0,
      clientEnd: client.length,
      payloadStart: client.length,
      payloadEnd: buf.length,
    };
    builder.append({ ...m, buf, view, ...at });
  }
  return builder.block();
}

/** The messages of a block, oldest first; payloads are views into `block`. */
export function decodeBlock(block: Buffer): BlockMessage[] {
  const out: BlockMessage[] = [];
  let p = 0;
  while (p < block.length) {
    const t = block.readDoubleLE(p);
    const flags = block[p + 8]!;
    const size = block.readUInt32LE(p + 9);
    p += 13;
    let clientId: string | undefined;
    if (flags & 8) {
      const n = block.readUInt16LE(p);
      clientId = block.toString('utf8', p + 2, p + 2 + n);
      p += 2 + n;
    }
    let properties: string | undefined;
    if (flags & 16) {
      const n = block.readUInt32LE(p);
      properties = block.toString('utf8', p + 4, p + 4 + n);
      p += 4 + n;
    }
    const n = block.readUInt32LE(p);
    const payload = block.subarray(p + 4, p + 4 + n);
    p += 4 + n;
    out.push({
      t,
      qos: (flags & 3) as BlockMessage['qos'],
      retain: (flags & 4) !== 0,
      clientId,
      properties,
      size,
      payload,
    });
  }
  return out;
}
