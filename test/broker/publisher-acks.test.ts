// The acknowledgements a connection owes its publisher go out in the order the PUBLISHes came, however
// their messages become safe, also for a publisher that floods (tens of thousands owed at once).
import { describe, expect, it } from 'vitest';
import { type PendingAck, PublisherAcks } from '../../src/broker/publisher-acks.js';

describe('PublisherAcks', () => {
  it('sends in arrival order when later messages are safe first, and counts the PUBACKs owed', () => {
    const sent: number[] = [];
    const acks = new PublisherAcks((a) => sent.push(a.packetId));
    const a = acks.add('puback', 1);
    const b = acks.add('pubrec', 2);
    const c = acks.add('puback', 3);
    expect(acks.pubacksOwed).toBe(2);
    acks.settle(c, false);
    acks.settle(b, true);
    expect(sent).toEqual([]); // 1 still waits: nothing may overtake it
    acks.settle(a, false);
    expect(sent).toEqual([1, 2, 3]);
    expect(acks.pubacksOwed).toBe(0);
    expect(acks.length).toBe(0);
    acks.settle(a, true); // a second word on a settled ack changes nothing
    expect(sent).toEqual([1, 2, 3]);
  });

  it('keeps the order for 50,000 owed at once, settled in a shuffled order, while more arrive', () => {
    const sent: number[] = [];
    const acks = new PublisherAcks((a) => sent.push(a.packetId));
    let seed = 7; // a fixed shuffle (LCG), so a failure repeats
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const waiting: PendingAck[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 1000; i++) waiting.push(acks.add(i % 2 ? 'puback' : 'pubrec', next++));
      // Settle about half of what waits, in random order.
      for (let i = waiting.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [waiting[i], waiting[j]] = [waiting[j]!, waiting[i]!];
      }
      for (const ack of waiting.splice(0, Math.ceil(waiting.length / 2))) acks.settle(ack, false);
      expect(sent).toEqual(Array.from({ length: sent.length }, (_, k) => k));
    }
    for (const ack of waiting.splice(0)) acks.settle(ack, false);
    expect(sent.length).toBe(50_000);
    expect(sent).toEqual(Array.from({ length: 50_000 }, (_, k) => k));
    expect(acks.pubacksOwed).toBe(0);
    expect(acks.length).toBe(0);
  });
});
