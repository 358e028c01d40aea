import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/broker/types.js';
import {
  BatchPacker,
  BatchReader,
  type PackedBatch,
  type UnpackedMessage,
} from '../../../src/hub/history/message-batch.js';
import { encodeJson } from '../../../src/store/sqlite/codec.js';

const keepAll = () => Number.MAX_SAFE_INTEGER;

/** What the writer reads of a batch, as objects (payloads as views into the batch). */
function unpackBatch(batch: PackedBatch): UnpackedMessage[] {
  const out: UnpackedMessage[] = [];
  const r = new BatchReader(batch);
  while (r.next()) {
    const { topic, t, qos, retain, clientId, properties, size } = r;
    const payload = r.buf.subarray(r.payloadStart, r.payloadEnd);
    out.push({ topic, t, qos, retain, clientId, properties, size, payload });
  }
  return out;
}

function message(topic: string, payload: string, extra: Partial<Message> = {}): Message {
  return {
    topic,
    payload: Buffer.from(payload),
    qos: 1,
    retain: false,
    receivedAt: 1_700_000_000_123,
    ...extra,
  };
}

describe('history hand-over batches', () => {
  it('send a topic and client id once per batch, then refer to them', () => {
    const topic = 'hub/board/7/telemetry-with-a-rather-long-topic-name';
    const packer = new BatchPacker(keepAll);
    for (let i = 0; i < 100; i++)
      packer.append(message(topic, `{"t":${i}}`), 'board-7-with-a-long-client-id');
    // Spelled out each time, the topic and client id alone would take 100 × 80 bytes.
    expect(packer.bytes).toBeLessThan(100 * 80);
    const batch = packer.take();
    if (!batch) throw new Error('no batch');
    const out = unpackBatch(batch);
    expect(out).toHaveLength(100);
    expect(out.every((m) => m.topic === topic && m.clientId === 'board-7-with-a-long-client-id')).toBe(true);
    expect(out.map((m) => m.payload.toString())).toEqual(Array.from({ length: 100 }, (_, i) => `{"t":${i}}`));
  });

  it("say where each client id's UTF-8 is in the batch, whether spelled out or referred to", () => {
    const packer = new BatchPacker(keepAll);
    const ids = ['capteur-é', 'b', 'capteur-é', '', 'b', 'capteur-é'];
    for (const id of ids) packer.append(message('t', '1'), id);
    const batch = packer.take();
    if (!batch) throw new Error('no batch');
    const r = new BatchReader(batch);
    const seen: string[] = [];
    while (r.next()) seen.push(r.buf.toString('utf8', r.clientStart, r.clientEnd));
    expect(seen).toEqual(ids);
  });

  it('round-trip every field: interleaved topics, absent, empty and repeated client ids, properties', () => {
    const packer = new BatchPacker(keepAll);
    const sent: [Message, string | undefined][] = [
      [message('a/°C', 'x', { qos: 0, retain: true }), undefined],
      [message('b', 'y', { qos: 2, properties: { contentType: 'text/plain' } }), ''],
      [message('a/°C', 'z'), 'c1'],
      [message('b', ''), undefined],
      [message('a/°C', 'w'), 'c1'],
      [message('', 'v'), ''],
    ];
    for (const [m, clientId] of sent) packer.append(m, clientId);
    const batch = packer.take();
    if (!batch) throw new Error('no batch');
    const out = unpackBatch(batch);
    expect(
      out.map((m) => [m.topic, m.clientId, m.qos, m.retain, m.properties, m.payload.toString(), m.t]),
    ).toEqual(
      sent.map(([m, clientId]) => [
        m.topic,
        clientId,
        m.qos,
        m.retain,
        m.properties === undefined ? undefined : encodeJson(m.properties),
        m.payload.toString(),
        m.receivedAt,
      ]),
    );
  });

  it('stay right past the number of strings a batch looks up, and start afresh after take()', () => {
    const packer = new BatchPacker(keepAll);
    const topics = Array.from({ length: 5000 }, (_, i) => `t/${i}`);
    for (const t of topics) packer.append(message(t, '1'), 'same');
    for (const t of topics.slice(4090)) packer.append(message(t, '2'), 'same');
    const first = packer.take();
    if (!first) throw new Error('no batch');
    expect(unpackBatch(first).map((m) => `${m.topic}=${m.payload}`)).toEqual([
      ...topics.map((t) => `${t}=1`),
      ...topics.slice(4090).map((t) => `${t}=2`),
    ]);
    packer.append(message('t/4999', '3'), 'same');
    const second = packer.take();
    if (!second) throw new Error('no batch');
    expect(unpackBatch(second).map((m) => [m.topic, m.clientId])).toEqual([['t/4999', 'same']]);
  });
});
