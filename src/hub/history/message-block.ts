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
 * Of messages whose payloads (oldest first) take `sizes` bytes each as kept, where the newest ones the
 * log serves start: at most `maxCount`, and at most `maxBytes` together, the newest one always.
 */
export function servedFrom(sizes: readonly number[], maxCount: number, maxBytes: number): number {
  let from = sizes.length;
  let bytes = 0;
  while (from > 0 && sizes.length - from < maxCount) {
    const size = Math.min(sizes[from - 1]!, maxBytes);
    if (from < sizes.length && bytes + size > maxBytes) break;
    bytes += size;
    from--;
  }
  return from;
}

/**
 * Builds a block message by message, straight from the bytes a payload sits in (the history writer's
 * hand-over buffer), with no object kept per message: `times` and `kept` say where each one is.
 */
export class BlockBuilder {
  private buf: Buffer;
  /** Writes the numbers: DataView's methods compile to stores, Buffer's check their arguments first. */
  private view: DataView;
  private p = 0;
  /** Each message's start in the block. */
  private readonly starts: number[] = [];
  /** Each message's time, oldest first. */
  readonly times: number[] = [];
  /** Each message's payload bytes as kept (cut to the cap). */
  readonly kept: number[] = [];

  constructor(private readonly maxBytes: number) {
    this.buf = Buffer.allocUnsafe(4096);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  get count(): number {
    return this.times.length;
  }

  /** Appends a message whose payload is `source[from, to)`, cut to the cap. */
  append(m: BlockHeader, source: Uint8Array, from: number, to: number): void {
    const keep = Math.min(to - from, this.maxBytes);
    let room = 8 + 1 + 4 + 4 + keep;
    if (m.clientId !== undefined) room += 2 + 3 * m.clientId.length;
    if (m.properties !== undefined) room += 4 + 3 * m.properties.length;
    const buf = this.reserve(room);
    const view = this.view;
    let p = this.p;
    this.starts.push(p);
    this.times.push(m.t);
    this.kept.push(keep);
    view.setFloat64(p, m.t, true);
    view.setUint8(
      p + 8,
      m.qos | (m.retain ? 4 : 0) | (m.clientId !== undefined ? 8 : 0) | (m.properties ? 16 : 0),
    );
    view.setUint32(p + 9, m.size, true);
    p += 13;
    if (m.clientId !== undefined) {
      const n = m.clientId === '' ? 0 : buf.write(m.clientId, p + 2, 'utf8');
      view.setUint16(p, n, true);
      p += 2 + n;
    }
    if (m.properties) {
      const n = buf.write(m.properties, p + 4, 'utf8');
      view.setUint32(p, n, true);
      p += 4 + n;
    }
    view.setUint32(p, keep, true);
    p += 4;
    // Through a view and a native copy: a byte loop in JavaScript cost ~30 instructions a byte (callgrind).
    buf.set(source.subarray(from, from + keep), p);
    this.p = p + keep;
  }

  /** The block of the messages from the `first`-th on. */
  block(first = 0): Buffer {
    return this.buf.subarray(first < this.starts.length ? this.starts[first]! : this.p, this.p);
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
  for (const m of messages) builder.append(m, m.payload, 0, m.payload.length);
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
