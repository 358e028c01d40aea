/** The packet ids the client hands out, as libmosquitto does. */
import type { IClientOptions } from 'mqtt';

/**
 * Packet ids 1, 2, 3… as libmosquitto hands them out, so -d lines match mosquitto's (MQTT.js's default
 * starts at a random id, its "unique" provider reuses freed ids).
 */
export class SequentialMessageIdProvider implements NonNullable<IClientOptions['messageIdProvider']> {
  private last = 0;
  private readonly inUse = new Set<number>();
  allocate(): number | null {
    for (let tries = 0; tries < 65535; tries++) {
      this.last = (this.last % 65535) + 1;
      if (!this.inUse.has(this.last)) {
        this.inUse.add(this.last);
        return this.last;
      }
    }
    return null;
  }
  getLastAllocated(): number | null {
    return this.last === 0 ? null : this.last;
  }
  register(id: number): boolean {
    if (this.inUse.has(id)) return false;
    this.inUse.add(id);
    return true;
  }
  deallocate(id: number): void {
    this.inUse.delete(id);
  }
  clear(): void {
    this.inUse.clear();
  }
  /** The id the next publish would get; QoS 0 publishes use it too in mosquitto's log. */
  skip(): number {
    this.last = (this.last % 65535) + 1;
    return this.last;
  }
}
