/** Counters behind $SYS/broker/... and Broker.stats, named as mosquitto names them. */
export class BrokerStats {
  readonly startedAt = Date.now();
  bytesReceived = 0;
  bytesSent = 0;
  /** Every MQTT packet, as mosquitto's messages/received and messages/sent count them. */
  packetsReceived = 0;
  packetsSent = 0;
  publishReceived = 0;
  publishSent = 0;
  /** Messages a client did not get: queue full, expired, too large for it, refused by ACL or size. */
  publishDropped = 0;
  publishExpired = 0;
  /** QoS 1/2 publishes refused (v5 reason code, or a closed 3.1.1 connection): ACL, size, store failing. */
  publishRefused = 0;
  clientsConnected = 0;
  clientsMaximum = 0;
  retainedCount = 0;
  subscriptionCount = 0;

  clientConnected(connected: number): void {
    this.clientsConnected = connected;
    if (connected > this.clientsMaximum) this.clientsMaximum = connected;
  }

  clientDisconnected(): void {
    this.clientsConnected = Math.max(0, this.clientsConnected - 1);
  }

  retainedChanged(count: number): void {
    this.retainedCount = count;
  }

  subscriptionsChanged(count: number): void {
    this.subscriptionCount = count;
  }
}
