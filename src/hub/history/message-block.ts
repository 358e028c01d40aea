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

/**
 * Of `messages` (oldest first), where the newest ones the log serves start: at most `maxCount`, and
 * payloads (each cut to `maxBytes`) of at most `maxBytes` together, the newest one always.
 */
export function servedFrom(
  messages: readonly { payload: Uint8Array }[],
  maxCount: number,
  maxBytes: number,
): number {
  let from = messages.length;
  let bytes = 0;
  while (from > 0 && messages.length - from < maxCount) {
    const size = Math.min(messages[from - 1]!.payload.length, maxBytes);
    if (from < messages.length && bytes + size > maxBytes) break;
    bytes += size;
    from--;
  }
  return from;
}

/** One block of messages, each payload cut to `maxBytes`. */
export function encodeBlock(messages: readonly BlockMessage[], maxBytes: number): Buffer {
  let room = 0;
  for (const m of messages) {
    room += 8 + 1 + 4 + 4 + Math.min(m.payload.length, maxBytes);
    if (m.clientId !== undefined) room += 2 + 3 * m.clientId.length;
    if (m.properties !== undefined) room += 4 + 3 * m.properties.length;
  }
  const buf = Buffer.allocUnsafe(room);
  let p = 0;
  for (const m of messages) {
    p = buf.writeDoubleLE(m.t, p);
    buf[p++] = m.qos | (m.retain ? 4 : 0) | (m.clientId !== undefined ? 8 : 0) | (m.properties ? 16 : 0);
    p = buf.writeUInt32LE(m.size, p);
    if (m.clientId !== undefined) {
      const n = m.clientId === '' ? 0 : buf.write(m.clientId, p + 2, 'utf8');
      buf.writeUInt16LE(n, p);
      p += 2 + n;
    }
    if (m.properties) {
      const n = buf.write(m.properties, p + 4, 'utf8');
      buf.writeUInt32LE(n, p);
      p += 4 + n;
    }
    const keep = Math.min(m.payload.length, maxBytes);
    p = buf.writeUInt32LE(keep, p);
    p += m.payload.copy(buf, p, 0, keep);
  }
  return buf.subarray(0, p);
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
