import { describe, expect, it } from 'vitest';
import {
  BlockBuilder,
  type BlockMessage,
  decodeBlock,
  encodeBlock,
  servedFrom,
} from '../../../src/hub/history/message-block.js';

const m = (payload: Buffer | string, extra: Partial<BlockMessage> = {}): BlockMessage => ({
  t: 1000,
  qos: 0,
  retain: false,
  clientId: undefined,
  properties: undefined,
  size: Buffer.byteLength(payload),
  payload: Buffer.from(payload),
  ...extra,
});

describe('a message log block', () => {
  it('round-trips every field, empty and non-ASCII client ids and payloads included, oldest first', () => {
    const list = [
      m('21.5', { t: 1_796_000_000_123, qos: 1, clientId: 'board-1' }),
      m('', { qos: 2, retain: true, clientId: '' }),
      m(Buffer.from([0, 255, 1]), { clientId: 'capteur-é', properties: '{"contentType":"x/é"}' }),
    ];
    expect(decodeBlock(encodeBlock(list, 1024))).toEqual(list);
  });

  it('copies payloads of every length whole, small ones by words and large ones at once', () => {
    const lengths = [0, 1, 2, 3, 4, 5, 7, 8, 79, 255, 256, 257, 300, 5000];
    const list = lengths.map((n, i) =>
      m(Buffer.from(Array.from({ length: n }, (_, k) => (k * 7 + i) & 255)), {
        clientId: `c${'x'.repeat(i)}`,
      }),
    );
    expect(decodeBlock(encodeBlock(list, 1_000_000))).toEqual(list);
  });

  it('a builder reset for the next block keeps none of the last one, however large it grew', () => {
    const builder = new BlockBuilder(1024);
    const add = (payload: string, clientId: string, t: number) => {
      const buf = Buffer.from(clientId + payload);
      const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
      builder.append({
        ...m(payload, { t, clientId }),
        buf,
        view,
        clientStart: 0,
        clientEnd: clientId.length,
        payloadStart: clientId.length,
        payloadEnd: buf.length,
      });
    };
    for (let i = 0; i < 100; i++) add(`first-${i}`.repeat(20), 'board-1', i);
    expect(builder.count).toBe(100);
    builder.reset();
    add('21.5', 'board-2', 1000);
    add('21.6', 'board-2', 1001);
    expect(builder.count).toBe(2);
    expect([...builder.times.subarray(0, 2)]).toEqual([1000, 1001]);
    expect(decodeBlock(builder.block())).toEqual([
      m('21.5', { t: 1000, clientId: 'board-2' }),
      m('21.6', { t: 1001, clientId: 'board-2' }),
    ]);
    expect(decodeBlock(builder.block(1))).toEqual([m('21.6', { t: 1001, clientId: 'board-2' })]);
  });

  it('cuts each payload to the cap and keeps the size as published', () => {
    const [one] = decodeBlock(encodeBlock([m(Buffer.alloc(50, 7))], 20));
    expect(one?.payload).toEqual(Buffer.alloc(20, 7));
    expect(one?.size).toBe(50);
  });

  it('serves the newest messages within the count and byte caps, the newest always', () => {
    const sized = (...n: number[]) => n;
    expect(servedFrom(sized(1, 1, 1, 1), 2, 100)).toBe(2);
    expect(servedFrom(sized(40, 30, 30, 40), 10, 100)).toBe(1); // 40 + 30 + 30 fit, another 40 would not
    expect(servedFrom(sized(10, 500), 10, 100)).toBe(1); // the newest always, cut to the cap
    expect(servedFrom(sized(0, 100), 10, 100)).toBe(0); // an empty payload still fits
    expect(servedFrom([], 10, 100)).toBe(0);
  });
});
