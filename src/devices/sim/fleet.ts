/**
 * The boards of one `mothership sim` in interpreter mode: booted a few at a time (each boot loads
 * a WebAssembly interpreter: all at once would starve a small machine), their hardware ticked once
 * a second.
 */
import { simBoardConfig } from './board-config.js';
import { FleetControl, type FleetOptions } from './fleet-control.js';
import { Hardware } from './hardware.js';
import { SimBoard } from './sim-board.js';

export interface InterpreterFleetOptions extends FleetOptions {
  /** Boots at once (default 2). */
  bootConcurrency?: number;
}

const TICK_MS = 1000;

export class Fleet extends FleetControl<SimBoard> {
  private tickTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(opts: InterpreterFleetOptions) {
    const now = Date.now();
    super(
      opts.specs.map(
        (spec) =>
          new SimBoard({
            spec,
            config: simBoardConfig(spec, opts.broker, opts.fast, opts.queueMax),
            ...(opts.broker.ca ? { files: { 'ca.crt': opts.broker.ca } } : {}),
            hardware: new Hardware(opts.rng.fork(spec.name), now, opts.calm),
            report: opts.report,
          }),
      ),
    );
  }

  /** Boots every board; resolves once all run their firmware (not yet online). */
  static async start(opts: InterpreterFleetOptions): Promise<Fleet> {
    const fleet = new Fleet(opts);
    fleet.tickTimer = setInterval(() => {
      const now = Date.now();
      for (const b of fleet.boards) b.tick(now);
    }, TICK_MS);
    const queue = [...fleet.boards];
    const boot = async () => {
      for (let b = queue.shift(); b && !fleet.stopped; b = queue.shift()) await b.boot();
    };
    await Promise.all(Array.from({ length: opts.bootConcurrency ?? 2 }, boot));
    return fleet;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.tickTimer);
    await Promise.all(this.boards.map((b) => b.stop()));
  }
}
