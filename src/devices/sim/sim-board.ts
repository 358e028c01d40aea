/**
 * One board of `mothership sim`: a Board (the unchanged firmware in its own interpreter) plus the
 * hardware around it and what happens to it. A watchdog that fires, machine.reset() or a power
 * cycle really reboot it: the interpreter is thrown away and a new one boots the same flash
 * (config.json, the firmware) with machine.reset_cause() telling why, as on an ESP32. The world
 * (Wi-Fi, the sensor's cable, the soil) outlives the reboot.
 */
import { createHash } from 'node:crypto';
import { Board } from './board.js';
import { SIM_AP } from './board-config.js';
import type { SimulatedBoard } from './fleet-control.js';
import type { Hardware, Readings } from './hardware.js';
import type { BoardSpec, Kind } from './kinds.js';

/** machine.reset_cause() values of MicroPython's ESP32 port. */
export const RESET_CAUSE = { powerOn: 1, hard: 2, watchdog: 3 } as const;
const LED_PIN = 2;
const BUTTON_PIN = 0;
const SOIL_PIN = 36;
/** Serial lines a board keeps (the newest): enough to see what it did last, bounded. */
const KEEP_LINES = 200;
/** How often each board's worker collects its JS side (see BoardOptions.jsGcMs). */
const JS_GC_MS = 2000;
/** A crashed interpreter is rebooted, but not in a tight loop. */
const CRASH_REBOOT_MS = 1000;

export interface SimBoardOptions {
  spec: BoardSpec;
  config: Record<string, unknown>;
  /** More files on its flash (ca.crt). */
  files?: Record<string, string>;
  hardware: Hardware;
  /** What is worth telling: `serial` lines are the board's own output, the rest the sim's. */
  report(board: string, text: string, serial: boolean): void;
}

export class SimBoard implements SimulatedBoard {
  board: Board | undefined;
  /** MQTT link up (the firmware printed `mqtt: up`, not yet `mqtt: down`). */
  online = false;
  led = 0;
  /** Reboots since the sim started, and the cause given to the last boot. */
  reboots = 0;
  lastCause: number = RESET_CAUSE.powerOn;
  wifi = true;
  powered = true;
  /** The broker reachable over the network (the `broker-unreachable` fault: false). */
  reachable = true;
  /** Interpreters whose power was cut, kept until the broker closed their silent connections. */
  private readonly ghosts = new Map<Board, Promise<void>>();
  private last: Partial<Readings> = {};
  private timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private rebooting = false;

  constructor(private readonly opts: SimBoardOptions) {}

  get name(): string {
    return this.opts.spec.name;
  }

  get kind(): Kind {
    return this.opts.spec.kind;
  }

  get hardware(): Hardware {
    return this.opts.hardware;
  }

  /** Boots the interpreter; resolves once it runs main.py. */
  async boot(cause: number = RESET_CAUSE.powerOn): Promise<void> {
    const { spec, config, files } = this.opts;
    this.lastCause = cause;
    const b = await Board.start({
      app: spec.app,
      config,
      accessPoints: { [SIM_AP.ssid]: SIM_AP.password },
      resetCause: cause,
      uniqueId: createHash('sha256').update(spec.name).digest('hex').slice(0, 12),
      ...(files ? { files } : {}),
      reach: 'any',
      maxLines: KEEP_LINES,
      jsGcMs: JS_GC_MS,
    });
    if (this.stopped || !this.powered) {
      await b.stop();
      return;
    }
    this.board = b;
    this.last = {};
    if (!this.wifi) b.wifiOff();
    if (!this.reachable) b.setReachable(false);
    this.tick(Date.now());
    b.on('line', (l: { text: string }) => this.onLine(l.text));
    b.on('pin', (id: number, v: number) => {
      if (id !== LED_PIN || v === this.led) return;
      this.led = v;
      this.opts.report(this.name, `LED ${v ? 'on' : 'off'}`, false);
    });
    b.on('wdt', () => void this.reboot(RESET_CAUSE.watchdog, 'watchdog fired: rebooting'));
    b.on('reset', () => void this.reboot(RESET_CAUSE.hard, 'machine.reset(): rebooting'));
    b.on('exit', (e: Error | null) =>
      this.later(CRASH_REBOOT_MS, () =>
        this.reboot(RESET_CAUSE.powerOn, `interpreter ended (${e?.message ?? 'exit'}): rebooting`),
      ),
    );
  }

  private onLine(text: string): void {
    if (/^mqtt: up/.test(text)) this.online = true;
    else if (/^mqtt: down/.test(text)) this.online = false;
    this.opts.report(this.name, text, true);
  }

  /** Pushes what the sensors read now to the interpreter (only what changed). */
  tick(now: number): void {
    const b = this.board;
    if (!b) return;
    const r = this.opts.hardware.read(now);
    const dht = r.dht ? r.dht.join() : null;
    const was = this.last.dht ? this.last.dht.join() : this.last.dht;
    if (dht !== was) {
      b.setDht(r.dht);
      if ((r.dht === null) !== (this.last.dht === null) && this.last.dht !== undefined)
        this.opts.report(this.name, r.dht ? 'DHT22 plugged back in' : 'DHT22 unplugged', false);
    }
    if (r.soil !== this.last.soil) b.setAdc(SOIL_PIN, r.soil);
    if (r.button !== this.last.button) b.setPin(BUTTON_PIN, r.button);
    this.last = r;
  }

  /**
   * The board restarts: a new interpreter boots the same flash, reset_cause() = cause. As on an
   * ESP32, the old one's connections are not closed (a reset sends no FIN): the broker learns of it
   * when the new boot connects with the same client id, or by its keepalive.
   */
  async reboot(cause: number, why: string): Promise<void> {
    if (this.rebooting || this.stopped || !this.powered) return;
    this.rebooting = true;
    try {
      this.opts.report(this.name, why, false);
      this.reboots++;
      this.cut();
      await this.boot(cause);
    } finally {
      this.rebooting = false;
    }
  }

  /** The interpreter stops where it is; its sockets stay silent until the peers give up on them. */
  private cut(): void {
    this.online = false;
    const old = this.board;
    this.board = undefined;
    if (!old) return;
    old.removeAllListeners();
    // Without an answer the broker drops a connection after 1.5x its keepalive: wait a bit longer.
    const keepalive = Number((this.opts.config.broker as { keepalive?: number }).keepalive ?? 60);
    const ghost = old.powerCut((keepalive * 2 + 10) * 1000).finally(() => this.ghosts.delete(old));
    this.ghosts.set(old, ghost);
  }

  /** Power off and straight back on (reset cause power-on). */
  powerCycle(): Promise<void> {
    return this.reboot(RESET_CAUSE.powerOn, 'power cycled');
  }

  /** The power goes for `ms` (forever: until powerOn); the broker notices only by keepalive. */
  powerOff(ms?: number): void {
    if (!this.powered) return;
    this.powered = false;
    this.opts.report(this.name, 'power off', false);
    this.cut();
    if (ms !== undefined) this.later(ms, () => this.powerOn());
  }

  async powerOn(): Promise<void> {
    if (this.powered || this.stopped) return;
    this.powered = true;
    this.reboots++;
    this.opts.report(this.name, 'power on', false);
    await this.boot(RESET_CAUSE.powerOn);
  }

  /** The broker unreachable for `ms` (forever: until brokerReachable) while Wi-Fi stays up. */
  brokerUnreachable(ms?: number): void {
    this.reachable = false;
    this.board?.setReachable(false);
    if (ms !== undefined) this.later(ms, () => this.brokerReachable());
  }

  brokerReachable(): void {
    if (this.reachable) return;
    this.reachable = true;
    this.board?.setReachable(true);
    this.opts.report(this.name, 'broker reachable again', false);
  }

  /** The access point goes away for `ms` (forever: until wifiOn). */
  wifiOff(ms?: number): void {
    this.wifi = false;
    this.board?.wifiOff();
    if (ms !== undefined) this.later(ms, () => this.wifiOn());
  }

  wifiOn(): void {
    if (this.wifi) return;
    this.wifi = true;
    this.board?.wifiOn();
    this.opts.report(this.name, 'Wi-Fi back', false);
  }

  /** Every asyncio task stops, as in a hang: nothing feeds the watchdog, which reboots the board. */
  async hang(): Promise<void> {
    await this.board?.eval('None', 'import _harness\n_harness.stop()');
  }

  private later(ms: number, fn: () => unknown): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void fn();
    }, ms);
    this.timers.add(t);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const b = this.board;
    this.board = undefined;
    b?.removeAllListeners();
    await Promise.all([b?.stop(), ...[...this.ghosts.keys()].map((g) => g.kill())]);
  }
}
