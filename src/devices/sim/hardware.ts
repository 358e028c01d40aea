/**
 * The world around one simulated board, as the sensors see it: a DHT22 in a room whose
 * temperature and humidity follow the day (warmest mid-afternoon, humidity the other way) with
 * noise, and that now and then comes unplugged; a soil probe drying slowly until watered; a
 * BOOT button pressed on a schedule. Every draw comes from the board's own seeded stream.
 */
import { SOIL_DRY, SOIL_WET } from './kinds.js';
import type { Random } from './random.js';

const DAY_MS = 86_400_000;
/** A spontaneous unplug about once an hour per sensor, for 10-60 s (none when `calm`). */
const UNPLUG_EVERY_MS = 3_600_000;
/** From watered to bone dry. */
const DRY_OUT_MS = 3 * DAY_MS;
/** The button: pressed every 20-40 s, held 0.3-2 s. */
const PRESS_EVERY_MS: [number, number] = [20_000, 40_000];
const HOLD_MS: [number, number] = [300, 2000];

export interface Readings {
  /** [temperature °C, humidity %] rounded as the DHT22 reports them; null: nothing answers. */
  dht: [number, number] | null;
  /** The soil probe's ADC, read_u16() scale. */
  soil: number;
  /** GPIO0, active low: 0 while the button is held. */
  button: 0 | 1;
}

export class Hardware {
  /** Where this room sits: its mean temperature and humidity. */
  private readonly baseT: number;
  private readonly baseH: number;
  private unpluggedUntil = 0;
  private wateredAt: number;
  private nextPress: number;
  private releaseAt = 0;
  private lastTick: number;

  constructor(
    private readonly rng: Random,
    now: number,
    private readonly calm: boolean,
  ) {
    this.baseT = 21 + rng.between(-2, 2);
    this.baseH = 50 + rng.between(-8, 8);
    this.wateredAt = now - rng.between(0, DRY_OUT_MS / 2);
    this.nextPress = now + rng.between(...PRESS_EVERY_MS);
    this.lastTick = now;
  }

  get dhtAttached(): boolean {
    return this.unpluggedUntil === 0;
  }

  /** The sensor's cable comes out, for `ms` (forever: until plug()). */
  unplug(now: number, ms = Number.POSITIVE_INFINITY): void {
    this.unpluggedUntil = now + ms;
  }

  plug(): void {
    this.unpluggedUntil = 0;
  }

  water(now: number): void {
    this.wateredAt = now;
  }

  /** Someone holds the button down for `ms`. */
  press(now: number, ms: number): void {
    this.releaseAt = now + ms;
  }

  /** The sensors' values at `now`; advances the schedules (unplugs, presses). */
  read(now: number): Readings {
    const dt = Math.max(0, now - this.lastTick);
    this.lastTick = now;
    if (this.unpluggedUntil && now >= this.unpluggedUntil) this.unpluggedUntil = 0;
    if (!this.calm && this.dhtAttached && this.rng.next() < dt / UNPLUG_EVERY_MS) {
      this.unplug(now, this.rng.between(10_000, 60_000));
    }
    if (now >= this.nextPress) {
      this.press(now, this.rng.between(...HOLD_MS));
      this.nextPress = now + this.rng.between(...PRESS_EVERY_MS);
    }
    return {
      dht: this.dhtAttached ? this.climate(now) : null,
      soil: this.soil(now),
      button: now < this.releaseAt ? 0 : 1,
    };
  }

  /** The day's curve at local time: warmest at 15:00, most humid at 03:00, plus sensor noise. */
  private climate(now: number): [number, number] {
    const d = new Date(now);
    const hours = d.getHours() + d.getMinutes() / 60 + d.getSeconds() / 3600;
    const phase = Math.sin((2 * Math.PI * (hours - 9)) / 24);
    const t = this.baseT + 4 * phase + this.rng.gauss(0.15);
    const h = Math.min(99.9, Math.max(0, this.baseH - 12 * phase + this.rng.gauss(0.5)));
    return [Math.round(t * 10) / 10, Math.round(h * 10) / 10];
  }

  private soil(now: number): number {
    const dryness = Math.min(1, (now - this.wateredAt) / DRY_OUT_MS);
    const raw = SOIL_WET + (SOIL_DRY - SOIL_WET) * dryness + this.rng.gauss(150);
    return Math.round(Math.min(65535, Math.max(0, raw)));
  }
}
