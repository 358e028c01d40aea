/**
 * Decides when one QoS 1/2 message is safe to acknowledge to its publisher, with persistence on.
 *
 * A PUBACK promises that the message survives a crash. A delivery to an online persistent session is
 * safe once that client has acknowledged it (it then has the message) or once its in-flight row is
 * durable; everything else the message wrote (offline queue rows, QoS 2 state, the retained copy) is
 * safe once the commit holding it is durable. Online subscribers that keep up thus never make the
 * publisher wait for the disk, and their in-flight rows are never written at all: the session writes a
 * row only when the PUBACK is late (BrokerOptions.inflightWriteDelayMs) or the connection ends (issue 4).
 */
export class DeliveryTracker {
  /** Deliveries and writes not yet safe. */
  private outstanding = 0;
  private commitNeeded = false;
  private failed = false;
  private onSafe: ((failed: boolean) => void) | undefined;

  /** A QoS 1 delivery went out without its in-flight row: it waits for the PUBACK or a durable row. */
  sent(): void {
    this.outstanding++;
  }

  /** The message wrote to the store: it also waits for the commit. */
  needsCommit(): void {
    this.commitNeeded = true;
  }

  /** One sent delivery became safe (acknowledged, or its row durable), or its write failed. */
  settle(failed = false): void {
    if (failed) this.failed = true;
    this.outstanding--;
    if (this.outstanding === 0) this.onSafe?.(this.failed);
  }

  /**
   * Calls `done` once the message is safe; `afterCommit` waits for everything written so far (call
   * this after the message has been routed, so its writes are among them).
   */
  whenSafe(afterCommit: (done: (failed: boolean) => void) => void, done: (failed: boolean) => void): void {
    this.onSafe = done;
    if (this.commitNeeded) {
      this.outstanding++;
      afterCommit((failed) => this.settle(failed));
    } else if (this.outstanding === 0) done(false);
  }
}
