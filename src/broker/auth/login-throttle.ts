/**
 * Slows down password guessing: each failed login from an address doubles the wait that address's
 * next attempt serves (up to a cap); a success clears it. Other addresses never wait.
 */

export interface LoginThrottleOptions {
  /** Wait after the first failure, in ms. */
  initialDelayMs?: number;
  /** Longest wait, in ms. */
  maxDelayMs?: number;
  /** Failures are forgotten this long after the last one, in ms. */
  forgetAfterMs?: number;
  /** Addresses tracked at most; the oldest is forgotten first (bounds memory under a spray). */
  maxAddresses?: number;
}

interface Failures {
  count: number;
  last: number;
}

/** IPv4-mapped IPv6 and plain IPv4 are one client. */
function key(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export class LoginThrottle {
  private readonly failures = new Map<string, Failures>();
  /** The tail of each address's line of attempts: parallel guesses queue up instead of racing. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly forgetAfterMs: number;
  private readonly maxAddresses: number;

  constructor(options: LoginThrottleOptions = {}) {
    this.initialDelayMs = options.initialDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    this.forgetAfterMs = options.forgetAfterMs ?? 15 * 60_000;
    this.maxAddresses = options.maxAddresses ?? 10_000;
  }

  /** How long the next attempt from `address` must wait, in ms. */
  delayFor(address: string, now = Date.now()): number {
    const f = this.failures.get(key(address));
    if (!f) return 0;
    if (now - f.last > this.forgetAfterMs) {
      this.failures.delete(key(address));
      return 0;
    }
    // 2 ** 30 ms is already far past any sane cap; bounding the exponent keeps the math finite.
    return Math.min(this.maxDelayMs, this.initialDelayMs * 2 ** Math.min(f.count - 1, 30));
  }

  /**
   * Runs `attempt` once the address's earlier attempts are done and its current delay has passed.
   * `attempt` reports its outcome with failed()/succeeded().
   */
  turn<T>(address: string, attempt: () => Promise<T>): Promise<T> {
    const k = key(address);
    const before = this.queues.get(k) ?? Promise.resolve();
    const mine = before.then(async () => {
      const ms = this.delayFor(k);
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
      return attempt();
    });
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(k, settled);
    void settled.then(() => {
      if (this.queues.get(k) === settled) this.queues.delete(k);
    });
    return mine;
  }

  failed(address: string, now = Date.now()): void {
    const k = key(address);
    const f = this.failures.get(k);
    this.failures.delete(k); // re-insert so Map order stays oldest-first
    this.failures.set(k, { count: (f?.count ?? 0) + 1, last: now });
    if (this.failures.size > this.maxAddresses) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
  }

  succeeded(address: string): void {
    this.failures.delete(key(address));
  }

  /** Addresses currently being slowed down. */
  get size(): number {
    return this.failures.size;
  }
}
