/** A received PUBLISH and the time it arrived, as the printers of `mothership sub` take them. */

/** A received PUBLISH, as the printers need it. Properties are in MQTT.js's shape. */
export interface ReceivedMessage {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  mid: number;
  properties?: Record<string, unknown>;
}

/** Wall-clock time with nanoseconds, as clock_gettime(CLOCK_REALTIME) gives mosquitto. */
export interface Timestamp {
  date: Date;
  /** nanoseconds within the second */
  ns: number;
}

export function now(): Timestamp {
  const ms = performance.timeOrigin + performance.now();
  const seconds = Math.floor(ms / 1000);
  const ns = Math.min(999_999_999, Math.floor((ms - seconds * 1000) * 1e6));
  return { date: new Date(seconds * 1000), ns };
}

/** A property mqtt-packet gives as one value or, repeated, as an array: the first. */
export function first<T>(v: T | T[] | undefined): T | undefined {
  return Array.isArray(v) ? v[0] : v;
}
