/**
 * The two ends of every message load: a subscriber that checks each sender's sequence, acknowledges
 * QoS 1 and counts deliveries, and a publisher with its pre-encoded PUBLISH that counts PUBACKs.
 */
import { encodePubacks, publishTemplate, stampOf, writeStampAs } from '../lib/mqtt-wire.js';
import type { MessageLoad } from '../scenarios.js';
import { type Client, openClient } from './client.js';
import { C, type JobBase } from './protocol.js';
import { fill } from './worker-link.js';

const connect = (j: JobBase, s: MessageLoad, id: string) =>
  openClient({
    host: j.host,
    port: j.port,
    clientId: `${j.clientPrefix}-${id}`,
    keepalive: 60,
    clean: !s.persistentSessions,
  });

/**
 * Subscriber k, subscribed: `onStamp` sees each message's payload offset (its stamp) and the chunk's
 * arrival time; `onDelivered` runs after each received chunk with the count delivered in it.
 */
export async function openSubscriber(
  j: JobBase,
  s: MessageLoad,
  k: number,
  i32: Int32Array,
  stats: { outOfOrder: number },
  onStamp: (buf: Buffer, payload: number, now: number) => void,
  onDelivered?: (n: number) => void,
): Promise<Client> {
  const c = await connect(j, s, `s${k}`);
  const pairs = s.routing === 'pairs';
  const nextSeq = new Uint32Array(pairs ? 1 : s.publishers);
  let n = 0;
  let acks: number[] = [];
  const format = s.payload ?? 'binary';
  c.onPublish = (received, at, _end, _flags, pid) => {
    const [buf, p] = stampOf(format, received, at);
    onStamp(buf, p, c.now);
    const slot = pairs ? 0 : buf.readUInt32LE(p + 8);
    const seq = buf.readUInt32LE(p + 12);
    if (seq !== nextSeq[slot]) stats.outOfOrder++;
    nextSeq[slot] = seq + 1;
    n++;
    if (pid) acks.push(pid);
  };
  c.afterChunk = () => {
    if (acks.length) {
      c.socket.write(encodePubacks(acks));
      acks = [];
    }
    if (n) {
      Atomics.add(i32, C.DELIVERED, n);
      Atomics.notify(i32, C.DELIVERED);
      onDelivered?.(n);
      n = 0;
    }
  };
  await c.subscribe(fill(s.filter, k), s.qos);
  return c;
}

export interface StampedPublisher {
  k: number;
  c: Client;
  tpl: ReturnType<typeof publishTemplate>;
  seq: number;
  pid: number;
}

/** Publisher k, connected; `onAcked` runs after each received chunk with the PUBACKs in it (QoS 1). */
export async function openPublisher(
  j: JobBase,
  s: MessageLoad,
  k: number,
  i32: Int32Array,
  onAcked?: (n: number) => void,
): Promise<StampedPublisher> {
  const c = await connect(j, s, `p${k}`);
  if (s.qos > 0) {
    let acked = 0;
    c.onPuback = () => {
      acked++;
    };
    c.afterChunk = () => {
      if (!acked) return;
      Atomics.add(i32, C.PUBACKS, acked);
      onAcked?.(acked);
      acked = 0;
    };
  }
  const tpl = publishTemplate(fill(s.publishTopic, k), s.qos, s.payloadBytes, false, s.payload);
  return { k, c, tpl, seq: 0, pid: 0 };
}

/**
 * Writes publisher p's next message into buf at `off`: the template, the stamp (with `writeTime` after
 * it when given), a packet id (QoS 1).
 */
export function stampMessage(
  p: StampedPublisher,
  buf: Buffer,
  off: number,
  sendTime: number,
  writeTime?: number,
): void {
  p.tpl.bytes.copy(buf, off);
  writeStampAs(p.tpl.hexStamp, buf, off + p.tpl.payloadOffset, sendTime, p.k, p.seq++, writeTime);
  if (p.tpl.packetIdOffset >= 0) {
    p.pid = (p.pid % 65535) + 1;
    buf.writeUInt16BE(p.pid, off + p.tpl.packetIdOffset);
  }
}
