import type { BrokerCore } from './broker-core.js';

/**
 * Publishes $SYS/broker/... every sys_interval seconds, retained, with mosquitto's topic names and
 * formats so existing dashboards and scripts keep working.
 */
export class SysTopics {
  private timer: NodeJS.Timeout | undefined;
  private readonly last = new Map<string, string>();

  constructor(private readonly core: BrokerCore) {}

  start(intervalSeconds: number): void {
    if (intervalSeconds <= 0) return;
    this.publishAll();
    this.timer = setInterval(() => this.publishAll(), intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  values(): Record<string, string> {
    const s = this.core.stats;
    const total = this.core.sessions.size;
    return {
      '$SYS/broker/version': this.core.options.version,
      '$SYS/broker/uptime': `${Math.floor((Date.now() - s.startedAt) / 1000)} seconds`,
      '$SYS/broker/clients/connected': String(this.core.connections.size),
      '$SYS/broker/clients/active': String(this.core.connections.size),
      '$SYS/broker/clients/total': String(total),
      '$SYS/broker/clients/disconnected': String(Math.max(0, total - this.core.connections.size)),
      '$SYS/broker/clients/inactive': String(Math.max(0, total - this.core.connections.size)),
      '$SYS/broker/clients/maximum': String(s.clientsMaximum),
      '$SYS/broker/messages/received': String(s.packetsReceived),
      '$SYS/broker/messages/sent': String(s.packetsSent),
      '$SYS/broker/publish/messages/received': String(s.publishReceived),
      '$SYS/broker/publish/messages/sent': String(s.publishSent),
      '$SYS/broker/publish/messages/dropped': String(s.publishDropped),
      '$SYS/broker/bytes/received': String(s.bytesReceived),
      '$SYS/broker/bytes/sent': String(s.bytesSent),
      '$SYS/broker/retained messages/count': String(this.core.retained.size),
      '$SYS/broker/subscriptions/count': String(this.core.subscriptionCount()),
      '$SYS/broker/store/messages/count': String(queuedCount(this.core)),
      // Ours (mosquitto has no equivalent): refusals and the store's health, so a full disk shows.
      '$SYS/broker/publish/messages/refused': String(s.publishRefused),
      '$SYS/broker/publish/messages/expired': String(s.publishExpired),
      ...storeValues(this.core),
    };
  }

  private publishAll(): void {
    for (const [topic, value] of Object.entries(this.values())) {
      // Like mosquitto, only values that changed are republished (uptime always changes).
      if (this.last.get(topic) === value) continue;
      this.last.set(topic, value);
      this.core.accept(this.core.makeMessage(topic, Buffer.from(value), 0, true, undefined), undefined);
    }
  }
}

function storeValues(core: BrokerCore): Record<string, string> {
  const store = core.options.persistence;
  if (!store) return {};
  return {
    '$SYS/broker/store/writes/failed': String(store.stats().failedTransactions),
    '$SYS/broker/store/state': store.failing ? 'failing' : 'ok',
  };
}

function queuedCount(core: BrokerCore): number {
  let n = 0;
  for (const s of core.sessions.values()) n += s.queuedCount + s.inflight.size;
  return n;
}
