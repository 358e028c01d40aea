/**
 * What both kinds of fleet (interpreter boards, light boards) answer to: the commands of
 * commands.ts applied to the boards a target names, and the status table.
 */
import type { SimBroker } from './board-config.js';
import { COMMAND_HELP, type Command } from './commands.js';
import type { Hardware } from './hardware.js';
import type { BoardSpec, Kind } from './kinds.js';
import type { Random } from './random.js';

/** What a fleet is started with, either kind. */
export interface FleetOptions {
  specs: BoardSpec[];
  broker: SimBroker;
  /** The firmware tests' timings (board-config.ts FAST_TIMING) instead of the firmware's own. */
  fast: boolean;
  rng: Random;
  /** No spontaneous sensor unplugs. */
  calm: boolean;
  /** Each board's QoS 1 outbox (config.json timing.queue_max); the firmware's default otherwise. */
  queueMax?: number;
  /** What is worth telling: `serial` lines are a board's own output, the rest the sim's. */
  report(board: string, text: string, serial: boolean): void;
}

/** A board as the fleet drives it, whatever runs inside. */
export interface SimulatedBoard {
  readonly name: string;
  readonly kind: Kind;
  readonly online: boolean;
  readonly led: number;
  readonly reboots: number;
  readonly wifi: boolean;
  readonly powered: boolean;
  readonly hardware: Hardware;
  wifiOff(ms?: number): void;
  wifiOn(): void;
  powerCycle(): Promise<void>;
  /** No power for `ms` (forever: until powerOn): the connection goes silent, no FIN. */
  powerOff(ms?: number): void;
  powerOn(): Promise<void>;
  /** The broker unreachable (silent connections, unanswered connects) while Wi-Fi stays up. */
  brokerUnreachable(ms?: number): void;
  brokerReachable(): void;
  hang(): Promise<void>;
  /** Pushes the sensors' readings (and for a light board, runs its app); about every TICK_MS. */
  tick(now: number): void;
  stop(): Promise<void>;
}

export class FleetControl<B extends SimulatedBoard> {
  constructor(readonly boards: B[]) {}

  get online(): number {
    let n = 0;
    for (const b of this.boards) if (b.online) n++;
    return n;
  }

  /** Boards a target names: a board, a kind, or all. */
  targets(target: string): B[] {
    if (target === 'all') return this.boards;
    const one = this.boards.filter((b) => b.name === target);
    return one.length ? one : this.boards.filter((b) => b.kind === target);
  }

  /** Applies a parsed command; returns what to tell the user. */
  async apply(c: Command): Promise<string> {
    if ('error' in c) return `error: ${c.error}`;
    if (!('target' in c)) return c.verb === 'help' ? COMMAND_HELP : this.status();
    const boards = this.targets(c.target);
    if (!boards.length) return `error: no board or kind '${c.target}' (boards: ${this.names()})`;
    const now = Date.now();
    const ms = c.seconds !== undefined ? c.seconds * 1000 : undefined;
    await Promise.all(
      boards.map(async (b) => {
        switch (c.verb) {
          case 'wifi-off':
            return b.wifiOff(ms);
          case 'wifi-on':
            return b.wifiOn();
          case 'power-cycle':
            return b.powerCycle();
          case 'power-off':
            return b.powerOff(ms);
          case 'power-on':
            return b.powerOn();
          case 'broker-unreachable':
            return b.brokerUnreachable(ms);
          case 'broker-reachable':
            return b.brokerReachable();
          case 'hang':
            return b.hang();
          case 'unplug':
            b.hardware.unplug(now, ms);
            break;
          case 'plug':
            b.hardware.plug();
            break;
          case 'press':
            b.hardware.press(now, ms ?? 1000);
            break;
          case 'water':
            b.hardware.water(now);
            break;
        }
        b.tick(now);
      }),
    );
    const who = boards.length === 1 ? boards[0]!.name : `${boards.length} boards`;
    return `${c.verb} ${who}${c.seconds !== undefined ? ` for ${c.seconds} s` : ''}`;
  }

  private names(): string {
    const names = this.boards.slice(0, 8).map((b) => b.name);
    return names.join(', ') + (this.boards.length > 8 ? ', ...' : '');
  }

  /** One line a board (the first 50 of a large fleet), after the count online. */
  status(): string {
    const shown = this.boards
      .slice(0, 50)
      .map(
        (b) =>
          `  ${b.name.padEnd(14)} ${b.online ? 'online ' : 'offline'}  power ${b.powered ? 'on ' : 'off'}  LED ${b.led ? 'on ' : 'off'}  Wi-Fi ${b.wifi ? 'on ' : 'off'}  DHT22 ${b.hardware.dhtAttached ? 'in ' : 'out'}  reboots ${b.reboots}`,
      );
    const more = this.boards.length > 50 ? `\n  ... and ${this.boards.length - 50} more` : '';
    return `${this.online}/${this.boards.length} online\n${shown.join('\n')}${more}\n`;
  }
}
