/**
 * How long a bridge waits before reconnecting (restart_timeout): a constant, or mosquitto's
 * "decorrelated jitter" backoff, each wait drawn between the base and three times the last, capped.
 */
import type { RestartTimeout } from './bridge-config.js';

export class Backoff {
  private last: number;

  constructor(
    private readonly timeout: RestartTimeout,
    private readonly random: () => number = Math.random,
  ) {
    this.last = 'constant' in timeout ? timeout.constant : timeout.base;
  }

  /** The next wait, in seconds. */
  next(): number {
    const t = this.timeout;
    if ('constant' in t) return t.constant;
    const high = Math.max(t.base, this.last * 3);
    this.last = Math.min(t.cap, t.base + this.random() * (high - t.base));
    return this.last;
  }

  /** Connected: the next failure starts again from the base. */
  reset(): void {
    this.last = 'constant' in this.timeout ? this.timeout.constant : this.timeout.base;
  }
}
