/**
 * The boards of `mothership sim --light`: LightBoards in this process, no interpreter. One timer
 * drives them all (every TICK_MS: their clients and apps); connects are spread over the first
 * seconds so thousands of boards do not open their sockets in the same instant.
 */
import { FleetControl, type FleetOptions } from '../fleet-control.js';
import { Hardware } from '../hardware.js';
import { LightBoard } from './light-board.js';

/** led-remote publishes every 500 ms: the tick must be well under that. */
const TICK_MS = 100;
/** New connections a tick, at most, so a large fleet ramps up (200/tick = 2,000/s). */
const CONNECTS_PER_TICK = 200;

export class LightFleet extends FleetControl<LightBoard> {
  private timer: NodeJS.Timeout | undefined;
  private started = 0;

  constructor(opts: FleetOptions) {
    const now = Date.now();
    super(
      opts.specs.map((spec) => {
        const rng = opts.rng.fork(spec.name);
        return new LightBoard({
          spec,
          broker: opts.broker,
          fast: opts.fast,
          queueMax: opts.queueMax ?? 16,
          hardware: new Hardware(rng, now, opts.calm),
          rng,
          report: opts.report,
        });
      }),
    );
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  private tick(): void {
    const now = Date.now();
    this.started = Math.min(this.boards.length, this.started + CONNECTS_PER_TICK);
    for (let i = 0; i < this.started; i++) this.boards[i]!.tick(now);
  }

  /**
   * QoS 1 messages acked and QoS 0 messages sent, per topic (a board's own topics counted together
   * as `<device>/...`), in all and (`perBoard`) by board; what was dropped (QoS 1 pushed out of a
   * full outbox, QoS 0 published offline); what was still queued when a reset or power cut wiped
   * the board's RAM (`lost`); what is still queued; QoS 1 messages sent again with DUP, by topic
   * (`resent`: a subscriber may receive those twice).
   */
  stats(): {
    sent: Record<string, number>;
    perBoard: Record<string, Record<string, number>>;
    dropped: number;
    droppedQos0: number;
    lost: number;
    pending: number;
    resent: Record<string, number>;
  } {
    const resent: Record<string, number> = {};
    const sent: Record<string, number> = {};
    const perBoard: Record<string, Record<string, number>> = {};
    let dropped = 0;
    let droppedQos0 = 0;
    let lost = 0;
    let pending = 0;
    for (const b of this.boards) {
      const mine: Record<string, number> = {};
      perBoard[b.name] = mine;
      for (const c of b.clients()) {
        for (const [t, n] of c.sent) {
          const topic = t.startsWith(`${b.name}/`) ? `<device>${t.slice(b.name.length)}` : t;
          sent[topic] = (sent[topic] ?? 0) + n;
          mine[t] = (mine[t] ?? 0) + n;
        }
        for (const [t, n] of c.resent) resent[t] = (resent[t] ?? 0) + n;
        dropped += c.dropped;
        droppedQos0 += c.droppedQos0;
        if (c === b.client) pending += c.pending;
        else lost += c.pending;
      }
    }
    return { sent, perBoard, dropped, droppedQos0, lost, pending, resent };
  }

  /** Stops the apps (no new messages) and lets the outboxes empty, for at most `ms`. */
  async drain(ms: number): Promise<void> {
    clearInterval(this.timer);
    const deadline = Date.now() + ms;
    for (;;) {
      const now = Date.now();
      let pending = 0;
      for (const b of this.boards) {
        b.client.tick(now);
        pending += b.client.pending;
      }
      if (!pending || now > deadline) return;
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.boards.map((b) => b.stop()));
  }
}
