/**
 * A light board: the seed apps of firmware/apps/ redone in plain Node over LightClient, same topics,
 * payloads, rates and reactions, for fleets too large for one interpreter each. Each board's
 * behaviour is the app's main.py line for line (see the comments there); the firmware stays the
 * reference, and test/devices/sim checks both against the same seed commands.
 */
import type { SimBroker } from '../board-config.js';
import type { SimulatedBoard } from '../fleet-control.js';
import type { Hardware } from '../hardware.js';
import { type BoardSpec, type Kind, SOIL_DRY, SOIL_WET } from '../kinds.js';
import type { Random } from '../random.js';
import { LightClient } from './light-client.js';

/** What each app publishes on and how often (ms), as the apps' defaults. */
const INTERVAL_MS: Record<BoardSpec['app'], number> = {
  conversation: 5000,
  led_remote: 500,
  mothership: 5000,
  dht: 5000,
};

const FW = '0.1.0';

export interface LightBoardOptions {
  spec: BoardSpec;
  broker: SimBroker;
  fast: boolean;
  queueMax: number;
  hardware: Hardware;
  rng: Random;
  report(board: string, text: string, serial: boolean): void;
}

export class LightBoard implements SimulatedBoard {
  client: LightClient;
  led = 0;
  reboots = 0;
  wifi = true;
  private resetCause = 'power-on';
  /** Until when a hung board stays silent before its watchdog reboots it. */
  private hungUntil = 0;
  powered = true;
  private reachable = true;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Clients of before a power cut, their connections silent until the broker drops them. */
  private readonly ghosts = new Set<LightClient>();
  private nextRun: number;
  private n = 0;
  private failures = 0;
  private readonly app: Record<string, unknown>;

  constructor(private readonly o: LightBoardOptions) {
    this.app = o.spec.appConfig;
    this.client = this.boot();
    this.nextRun = Date.now() + o.rng.next() * INTERVAL_MS[o.spec.app];
  }

  /** A fresh client and app state, as after a reset: RAM (the outbox, the counters) is gone. */
  private boot(): LightClient {
    const { spec, broker, fast } = this.o;
    const o = this.o;
    this.n = 0;
    this.failures = 0;
    const client = new LightClient({
      host: broker.host === 'localhost' ? '127.0.0.1' : broker.host,
      port: broker.port,
      clientId: spec.name,
      ...(broker.user !== undefined ? { username: broker.user } : {}),
      ...(broker.password !== undefined ? { password: broker.password } : {}),
      ...(broker.ca !== undefined ? { ca: broker.ca } : {}),
      keepaliveS: fast ? 2 : 60,
      queueMax: o.queueMax,
      backoffMinMs: fast ? 200 : 1000,
      backoffMaxMs: fast ? 2000 : 60_000,
      retryMs: fast ? 1000 : 5000,
      subscriptions: this.subscriptions(),
      rng: o.rng,
      onMessage: (t, m) => this.onMessage(t, m),
      onUp: () => this.onUp(),
    });
    client.path = this.wifi && this.reachable;
    client.publish(`${spec.name}/reset_cause`, this.resetCause, 1, true);
    return client;
  }

  /** Every client this board has run, the current one last: the counts survive its reboots. */
  clients(): LightClient[] {
    return [...this.ghosts, this.client];
  }

  get kind(): Kind {
    return this.o.spec.kind;
  }

  wifiOff(ms?: number): void {
    this.wifi = false;
    this.client.path = false;
    this.client.drop(); // the firmware notices the station is gone at once
    this.after('wifi', ms, () => this.wifiOn());
  }

  wifiOn(): void {
    this.after('wifi', undefined, () => {});
    this.wifi = true;
    this.client.path = this.reachable;
  }

  /** Silent connection and unanswered connects; the client's keepalive notices, Wi-Fi stays up. */
  brokerUnreachable(ms?: number): void {
    this.reachable = false;
    this.client.path = false;
    this.after('reach', ms, () => this.brokerReachable());
  }

  brokerReachable(): void {
    this.after('reach', undefined, () => {});
    this.reachable = true;
    this.client.path = this.wifi;
  }

  async powerCycle(): Promise<void> {
    this.reboot('power-on');
  }

  powerOff(ms?: number): void {
    if (!this.powered) return;
    this.powered = false;
    this.client.cut();
    this.ghosts.add(this.client);
    this.setLed(0);
    this.o.report(this.name, 'power off', false);
    this.after('power', ms, () => this.powerOn());
  }

  async powerOn(): Promise<void> {
    if (this.powered) return;
    this.after('power', undefined, () => {});
    this.powered = true;
    this.reboots++;
    this.resetCause = 'power-on';
    this.o.report(this.name, 'power on', false);
    this.client = this.boot();
  }

  /** Runs `fn` in `ms` (undefined: cancels what was pending under `key`). */
  private after(key: string, ms: number | undefined, fn: () => unknown): void {
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    if (ms !== undefined) this.timers.set(key, setTimeout(fn, ms));
  }

  /** Silent for the watchdog's timeout, then rebooted by it, as the firmware's board is. */
  async hang(): Promise<void> {
    this.hungUntil = Date.now() + (this.o.fast ? 5000 : 30_000);
  }

  /** A reset sends nothing on the wire: the new boot's connect takes the session over. */
  private reboot(cause: string): void {
    this.reboots++;
    this.resetCause = cause;
    this.client.cut();
    this.ghosts.add(this.client);
    this.setLed(0);
    this.o.report(this.name, `rebooted (${cause})`, false);
    this.client = this.boot();
  }

  async stop(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.client.stop();
    for (const g of this.ghosts) g.stop();
  }

  get name(): string {
    return this.o.spec.name;
  }

  get hardware(): Hardware {
    return this.o.hardware;
  }

  get online(): boolean {
    return this.client.connected;
  }

  private qos(): 0 | 1 {
    return this.app.qos === 1 ? 1 : 0;
  }

  private subscriptions(): string[] {
    const a = this.o.spec.appConfig;
    switch (this.o.spec.app) {
      case 'conversation':
        return [a.role === 'machine1' ? 'notification' : 'hello'];
      case 'led_remote':
        return [`${a.peer}/btn/0`];
      case 'mothership':
        return ['from_mothership'];
      case 'dht':
        return ['output'];
    }
  }

  private publishes(): string[] {
    const { spec } = this.o;
    switch (spec.app) {
      case 'conversation':
        return [spec.appConfig.role === 'machine1' ? 'hello' : 'notification'];
      case 'led_remote':
        return [`${spec.appConfig.name}/btn/0`];
      case 'mothership':
        return ['to_mothership'];
      case 'dht':
        return ['testincr', `${spec.name}/soil`];
    }
  }

  /** Retained <device>/info at QoS 0 after online, in the firmware's shape (board.describe). */
  private onUp(): void {
    const pins = {
      conversation: { led: 2 },
      led_remote: { button: 0, led: 2 },
      mothership: {},
      dht: { led: 2, dht: 14, soil: 36 },
    };
    const info = {
      app: this.o.spec.app,
      fw: FW,
      ip: '192.168.4.23',
      rssi: -58,
      heap: 0,
      reset: this.resetCause,
      pins: pins[this.o.spec.app],
      pub: this.publishes(),
      sub: this.subscriptions(),
      light: true,
    };
    this.client.publish(`${this.name}/info`, JSON.stringify(info), 0, true);
  }

  private setLed(v: number): void {
    if (v === this.led) return;
    this.led = v;
    this.o.report(this.name, `LED ${v ? 'on' : 'off'}`, false);
  }

  private onMessage(topic: string, msg: Buffer): void {
    const m = msg.toString('latin1');
    switch (this.o.spec.app) {
      case 'conversation':
        if (topic === 'notification' && m === 'received') this.setLed(this.led ? 0 : 1);
        else if (topic === 'hello') this.client.publish('notification', 'received', this.qos());
        return;
      case 'led_remote':
        this.setLed(m === '1' ? 0 : 1);
        return;
      case 'dht':
        if (m === 'on') this.setLed(1);
        else if (m === 'off') this.setLed(0);
        return;
    }
  }

  /** The app's loop body, when its interval is up; the client's tick. */
  tick(now: number): void {
    if (!this.powered) return;
    if (this.hungUntil) {
      if (now < this.hungUntil) return;
      this.hungUntil = 0;
      this.reboot('watchdog');
    }
    this.client.tick(now);
    const r = this.o.hardware.read(now);
    if (now < this.nextRun) return;
    this.nextRun += INTERVAL_MS[this.o.spec.app];
    if (this.nextRun < now) this.nextRun = now + INTERVAL_MS[this.o.spec.app]; // fell behind: no burst
    const c = this.client;
    const qos = this.qos();
    switch (this.o.spec.app) {
      case 'conversation':
        if (this.app.role !== 'machine1') return;
        if (!qos && !c.connected) return; // QoS 0 is not queued: numbers only what can go out
        c.publish('hello', `I say hello to you #${this.n++}`, qos);
        return;
      case 'led_remote':
        c.publish(`${this.app.name}/btn/0`, String(r.button), qos);
        return;
      case 'mothership':
        if (!qos && !c.connected) return;
        c.publish('to_mothership', `Test to mothership #${this.n++}`, qos);
        return;
      case 'dht': {
        if (r.dht) {
          c.publish('testincr', `t=${r.dht[0].toFixed(1)}C, h=${r.dht[1].toFixed(1)}%.`, qos);
          if (this.failures) c.publish(`${this.name}/error`, 'dht: ok again', 1);
          this.failures = 0;
        } else {
          this.failures++;
          if (this.failures === 1 || this.failures % 10 === 0)
            c.publish(`${this.name}/error`, `dht: OSError(116,) (${this.failures} in a row)`, 1);
        }
        const pct = Math.max(
          0,
          Math.min(100, Math.floor(((SOIL_DRY - r.soil) * 100) / (SOIL_DRY - SOIL_WET))),
        );
        c.publish(`${this.name}/soil`, `soil=${pct}%, raw=${r.soil}`, qos);
        return;
      }
    }
  }
}
