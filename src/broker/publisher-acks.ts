/** A PUBACK or PUBREC owed to the publisher, waiting until its message is safe. */
export interface PendingAck {
  cmd: 'puback' | 'pubrec';
  packetId: number;
  outcome: 'waiting' | 'safe' | 'failed';
}

/**
 * The acknowledgements one connection owes its client, sent in the order the PUBLISHes arrived even
 * when a later message becomes safe first (one reached its subscribers, an earlier one waits for the
 * disk): clients may rely on that order, and it costs nothing when every message waits for the same
 * commit.
 */
export class PublisherAcks {
  /**
   * Owed from `head` on. Not `shift()`: a publisher that floods owes tens of thousands, an array that
   * large lives in V8's large-object space where shift() copies the whole array each time (166 ms of
   * a bridge-forward profile).
   */
  private owed: (PendingAck | undefined)[] = [];
  private head = 0;
  /** PUBACKs owed: QoS 1 messages still in progress, for the client's Receive Maximum quota. */
  pubacksOwed = 0;

  constructor(private readonly send: (ack: PendingAck) => void) {}

  add(cmd: PendingAck['cmd'], packetId: number): PendingAck {
    const ack: PendingAck = { cmd, packetId, outcome: 'waiting' };
    this.owed.push(ack);
    if (cmd === 'puback') this.pubacksOwed++;
    return ack;
  }

  /** The first of the durable commit and the subscribers' acknowledgements decides; later calls do nothing. */
  settle(ack: PendingAck, failed: boolean): void {
    if (ack.outcome !== 'waiting') return;
    ack.outcome = failed ? 'failed' : 'safe';
    const owed = this.owed;
    while (this.head < owed.length && owed[this.head]!.outcome !== 'waiting') {
      const next = owed[this.head]!;
      owed[this.head++] = undefined;
      if (next.cmd === 'puback') this.pubacksOwed--;
      this.send(next);
    }
    if (this.head === owed.length) {
      owed.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= owed.length) {
      this.owed = owed.slice(this.head);
      this.head = 0;
    }
  }

  /** Acknowledgements owed and not sent yet (PUBACKs and PUBRECs). */
  get length(): number {
    return this.owed.length - this.head;
  }
}
