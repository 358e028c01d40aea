import { describe, expect, it } from 'vitest';
import {
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
