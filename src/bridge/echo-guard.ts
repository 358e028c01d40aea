/**
 * What keeps a message from coming back over the bridge it left by. On v5 links the remote
 * subscriptions use No Local, and every message sent out carries a hop marker (a user property
 * listing the bridges it crossed), so a remote that echoes anyway, or a ring of bridges, is caught.
 * v3 has neither: messages sent out on topics that also come in are fingerprinted for a short window
 * and an identical one arriving within it is taken for the echo (mosquitto's try_private, where the
 * remote honours it, means none arrives).
 */
import { createHash } from 'node:crypto';
import type { MessageProperties } from '../broker/types.js';

export const HOP_PROPERTY = 'mothership-bridge-hop';

/** The bridges a message crossed already, from its hop marker. */
export function hopsOf(properties: MessageProperties | undefined): string[] {
  const v = properties?.userProperties?.[HOP_PROPERTY];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** The properties to send a message out with: its own, plus this bridge in its hop marker. */
export function withHop(properties: MessageProperties | undefined, bridgeId: string): MessageProperties {
  const userProperties = { ...properties?.userProperties };
  const hops = hopsOf(properties);
  userProperties[HOP_PROPERTY] = hops.length === 0 ? bridgeId : [...hops, bridgeId];
  return { ...properties, userProperties };
}

/** A message sent on a topic that also comes back in, remembered for `windowMs`. */
export class FingerprintWindow {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs = 10_000,
    /** Bounds memory on a busy link: the oldest fingerprints go first. */
    private readonly maxEntries = 50_000,
  ) {}

  private static key(topic: string, payload: Buffer): string {
    return createHash('sha1').update(topic).update('\0').update(payload).digest('base64');
  }

  sent(topic: string, payload: Buffer, now: number): void {
    const key = FingerprintWindow.key(topic, payload);
    this.seen.delete(key);
    this.seen.set(key, now + this.windowMs);
    if (this.seen.size > this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
  }

  /** True when this message is the echo of one sent within the window (it is then forgotten). */
  isEcho(topic: string, payload: Buffer, now: number): boolean {
    const key = FingerprintWindow.key(topic, payload);
    const until = this.seen.get(key);
    if (until === undefined) return false;
    this.seen.delete(key);
    return until >= now;
  }
}
