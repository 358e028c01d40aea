/**
 * Each bridge's status on $SYS, retained, every sys_interval seconds (only what changed):
 * $SYS/broker/bridges/<connection>/{connected,remote_address,queued,oldest_queued_age,queued_bytes,dropped,
 * dropped/{queue_full,too_old,too_large,refused},last_error}.
 * The state topic mosquitto publishes ($SYS/broker/connection/<remote_clientid>/state) is the bridge's own.
 */
import type { Broker } from '../broker/broker.js';
import type { BridgeStatus } from './bridge.js';

export function bridgeSysValues(s: BridgeStatus, now: number): Record<string, string> {
  const base = `$SYS/broker/bridges/${s.name}`;
  return {
    [`${base}/connected`]: s.connected ? '1' : '0',
    [`${base}/remote_address`]: s.remoteAddress ?? '',
    [`${base}/queued`]: String(s.queued),
    [`${base}/oldest_queued_age`]:
      s.oldestQueuedAt === undefined
        ? '0 seconds'
        : `${Math.max(0, Math.floor((now - s.oldestQueuedAt) / 1000))} seconds`,
    [`${base}/queued_bytes`]: String(s.queuedBytes),
    [`${base}/dropped`]: String(s.dropped),
    [`${base}/dropped/queue_full`]: String(s.drops.queueFull),
    [`${base}/dropped/too_old`]: String(s.drops.tooOld),
    [`${base}/dropped/too_large`]: String(s.drops.tooLarge),
    [`${base}/dropped/refused`]: String(s.drops.refused),
    [`${base}/last_error`]: s.lastError ?? '',
  };
}

export class BridgeSys {
  private readonly last = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly statuses: () => BridgeStatus[],
  ) {}

  start(intervalSeconds: number): void {
    if (intervalSeconds <= 0) return;
    this.timer = setInterval(() => this.publish(), intervalSeconds * 1000);
    this.timer.unref();
  }

  publish(): void {
    const now = Date.now();
    for (const s of this.statuses())
      for (const [topic, value] of Object.entries(bridgeSysValues(s, now))) {
        if (this.last.get(topic) === value) continue;
        this.last.set(topic, value);
        this.broker.publish({ topic, payload: value, retain: true });
      }
  }

  /** A removed bridge's topics are cleared (an empty retained message deletes them). */
  forget(name: string): void {
    const prefix = `$SYS/broker/bridges/${name}/`;
    for (const topic of [...this.last.keys()])
      if (topic.startsWith(prefix)) {
        this.last.delete(topic);
        this.broker.publish({ topic, payload: '', retain: true });
      }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
