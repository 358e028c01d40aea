import { describe, expect, it } from 'vitest';
import { RetainedStore } from '../../src/broker/retained-store.js';
import type { Message } from '../../src/broker/types.js';

function message(topic: string, payload: Buffer): Message {
  return { topic, payload, qos: 0, retain: true, receivedAt: Date.now() };
}

describe('RetainedStore', () => {
  it('keeps its own exact-size copy of a payload that is a view into a large socket read', () => {
    const read = Buffer.alloc(65_536, 0x41); // one socket read holding many packets
    const store = new RetainedStore();
    store.put(message('a/b', read.subarray(100, 164)));
    const kept = store.get('a/b')!;
    expect(kept.payload.equals(read.subarray(100, 164))).toBe(true);
    expect(kept.payload.buffer.byteLength).toBeLessThan(1024);
    read.fill(0); // the read's buffer is reused or released: the retained copy is unaffected
    expect(kept.payload.toString()).toBe('A'.repeat(64));
  });

  it('keeps a payload that already owns its buffer as it is', () => {
    const store = new RetainedStore();
    const m = message('t', Buffer.from(new TextEncoder().encode('on').buffer));
    store.put(m);
    expect(store.get('t')).toBe(m);
  });

  it('an empty payload clears the topic [MQTT-3.3.1-10]', () => {
    const store = new RetainedStore();
    store.put(message('t', Buffer.from('on')));
    expect(store.put(message('t', Buffer.alloc(0)))).toBe(true);
    expect(store.get('t')).toBeUndefined();
  });
});
