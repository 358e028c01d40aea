/**
 * Which of a bridge's addresses it connects to, chosen as mosquitto chooses: after a failed attempt
 * or a lost link, the next one. With `round_robin false` (the default) the first address is the main
 * one: while connected to another, the bridge tries the main one's TCP port every 5 s and, once it
 * answers, drops the secondary link and goes back (mosquitto's primary_retry). With `round_robin true`
 * the bridge stays where it is until that link fails.
 */
import net from 'node:net';
import type { BridgeAddress } from './bridge-config.js';

/** mosquitto's primary_retry period. */
export const PRIMARY_RETRY_MS = 5000;

export class RemoteAddresses {
  private index = 0;
  private backToMain = false;
  private timer: NodeJS.Timeout | undefined;
  private probe: net.Socket | undefined;

  constructor(
    private readonly addresses: BridgeAddress[],
    private readonly roundRobin: boolean,
  ) {}

  get current(): BridgeAddress {
    return this.addresses[this.index]!;
  }

  /** The attempt failed or the link was lost: the next address (the main one after a probe found it). */
  failed(): void {
    this.index = this.backToMain ? 0 : (this.index + 1) % this.addresses.length;
    this.backToMain = false;
  }

  /** Connected: on a secondary address without round_robin, `leave` is called once the main one answers. */
  connected(leave: () => void): void {
    this.stop();
    if (this.roundRobin || this.index === 0) return;
    this.timer = setInterval(() => this.tryMain(leave), PRIMARY_RETRY_MS);
    this.timer.unref();
  }

  /** The link is down or the bridge stopped: no probing. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.probe?.destroy();
    this.probe = undefined;
  }

  private tryMain(leave: () => void): void {
    if (this.probe) return; // the last one still waits for an answer
    const { host, port } = this.addresses[0]!;
    const probe = net.connect({ host, port });
    this.probe = probe;
    const done = () => {
      probe.destroy();
      if (this.probe === probe) this.probe = undefined;
    };
    probe.setTimeout(PRIMARY_RETRY_MS, done);
    probe.once('error', done);
    probe.once('connect', () => {
      done();
      if (this.timer === undefined) return; // stopped meanwhile
      this.stop();
      this.backToMain = true;
      leave();
    });
  }
}
