/**
 * Writes made in one turn of the event loop go out in one syscall. MQTT.js corks its socket per packet
 * and uncorks on the next tick, and each PUBACK it reads is handled in a tick of its own, so every
 * PUBLISH that PUBACK lets out would be a writev of its own; corked until setImmediate, one batch of
 * PUBACKs sends all the PUBLISHes it let out at once.
 */
import type { Duplex } from 'node:stream';

const corked = new WeakSet<Duplex>();

export function corkUntilImmediate(stream: Duplex | undefined): void {
  if (!stream || corked.has(stream)) return;
  corked.add(stream);
  stream.cork();
  setImmediate(() => {
    corked.delete(stream);
    stream.uncork();
  });
}
