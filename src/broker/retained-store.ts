import { levelsMatch } from '../protocol/topic.js';
import type { Message } from './types.js';

/**
 * Retained messages by topic, in memory. A persistent store mirrors it (see src/store); the broker
 * reads only from here. An empty payload clears a topic [MQTT-3.3.1-10].
 */
export class RetainedStore {
  private readonly byTopic = new Map<string, Message>();

  get size(): number {
    return this.byTopic.size;
  }

  /** Stores or clears; returns true when the retained set changed. */
  put(message: Message): boolean {
    if (message.payload.length === 0) return this.byTopic.delete(message.topic);
    this.byTopic.set(message.topic, ownPayload(message));
    return true;
  }

  get(topic: string): Message | undefined {
    return this.byTopic.get(topic);
  }

  /** Retained messages whose topic matches `filter`, dropping any whose Message Expiry has passed. */
  match(filter: string, now: number): Message[] {
    const out: Message[] = [];
    const exact = !filter.includes('+') && !filter.includes('#');
    if (exact) {
      const m = this.byTopic.get(filter);
      if (m && !this.expire(m, now)) out.push(m);
      return out;
    }
    const levels = filter.split('/');
    for (const m of this.byTopic.values()) {
      if (levelsMatch(levels, m.topic) && !this.expire(m, now)) out.push(m);
    }
    return out;
  }

  all(): IterableIterator<Message> {
    return this.byTopic.values();
  }

  private expire(m: Message, now: number): boolean {
    const expiry = m.properties?.messageExpiryInterval;
    if (expiry === undefined || now - m.receivedAt < expiry * 1000) return false;
    this.byTopic.delete(m.topic);
    return true;
  }
}

/**
 * A payload decoded from a socket read is a view into that read's buffer; kept for a long time (as
 * retained messages are), it would hold the whole buffer. Such a payload gets its own exact-size copy.
 */
function ownPayload(message: Message): Message {
  const payload = message.payload;
  if (payload.buffer.byteLength <= payload.length + 1024) return message;
  const own = Buffer.allocUnsafeSlow(payload.length);
  payload.copy(own);
  return { ...message, payload: own };
}
