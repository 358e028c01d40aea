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
  private readonly owed: PendingAck[] = [];
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
    while (owed.length > 0 && owed[0]!.outcome !== 'waiting') {
      const next = owed.shift()!;
      if (next.cmd === 'puback') this.pubacksOwed--;
      this.send(next);
    }
  }
}
