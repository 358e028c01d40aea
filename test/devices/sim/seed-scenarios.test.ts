// Each seed scenario end to end: `mothership sim` (one board of each kind, the unchanged firmware)
// against a real `mothership up`, checked with the seeds' own mosquitto_sub / mosquitto_pub.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../../firmware/harness/broker.js';
import { mosquittoPub, mosquittoSub, type Sub } from '../../firmware/harness/seeds.js';
import { type SimProcess, startSim } from './sim-process.js';

let broker: TestBroker;
let sim: SimProcess;
const subs: Sub[] = [];
const sub = async (args: string[]) => {
  const s = await mosquittoSub(broker.port, args);
  subs.push(s);
  return s;
};

beforeAll(async () => {
  broker = await startBroker();
  sim = startSim(broker.port, ['--fast', '--calm', '--seed', '1']);
  await sim.waitFor(/all 6 boards online/, 60_000);
});
afterAll(async () => {
  for (const s of subs) s.stop();
  await sim?.stop();
  await broker?.close();
});

describe('mothership sim: the seeds, one board each', () => {
  it("seeds 000/001: machine1's hello reaches machine2 and `received` comes back", async () => {
    const s = await sub(['-v', '-t', 'hello', '-t', 'notification']);
    await s.waitFor(/^hello I say hello to you #\d+$/, 15_000);
    await s.waitFor(/^notification received$/, 15_000);
    // machine1 blinks its LED once per answer: the notification reached it
    await sim.after(0, /machine1: LED (on|off)/, 15_000);
  });

  it("seed 002: blue's button lights green's LED", async () => {
    const s = await sub(['-v', '-t', 'blue/btn/0']);
    await s.waitFor(/^blue\/btn\/0 1$/, 10_000); // released (active low)
    const from = sim.output().length;
    sim.type('press blue 3');
    await s.waitFor(/^blue\/btn\/0 0$/, 10_000);
    await sim.after(from, /green: LED on/, 10_000);
    await sim.after(from, /green: LED off/, 15_000); // released again
  });

  it('seed 003: `Test to mothership #N` arrives on to_mothership', async () => {
    const s = await sub(['-t', 'to_mothership']);
    await s.waitFor(/^Test to mothership #\d+$/, 15_000);
  });

  it('seed 004: t=..C, h=..%. on testincr; `mosquitto_pub -t output -m on -q 1` switches the LED', async () => {
    const s = await sub(['-t', 'testincr']);
    const reading = await s.waitFor(/^t=-?\d+\.\dC, h=\d+\.\d%\.$/, 15_000);
    const [, t, h] = /^t=(-?[\d.]+)C, h=([\d.]+)%\.$/.exec(reading)!.map(Number);
    expect(t).toBeGreaterThan(10); // the day's curve around 21 °C
    expect(t).toBeLessThan(32);
    expect(h).toBeGreaterThan(20);
    expect(h).toBeLessThan(80);
    const from = sim.output().length;
    await mosquittoPub(broker.port, ['-t', 'output', '-m', 'on', '-q', '1']);
    await sim.after(from, /dht1: LED on/, 10_000);
    await mosquittoPub(broker.port, ['-t', 'output', '-m', 'off', '-q', '1']);
    await sim.after(from, /dht1: LED off/, 10_000);
  });

  it('an unplugged DHT22 is reported by the firmware as on a real board, and again when back', async () => {
    const s = await sub(['-v', '-t', 'dht1/error', '-t', 'dht1/soil']);
    await s.waitFor(/^dht1\/soil soil=\d+%, raw=\d+$/, 15_000);
    sim.type('unplug dht1');
    await s.waitFor(/^dht1\/error dht: OSError\(116,\) \(1 in a row\)$/, 15_000);
    sim.type('plug dht1');
    await s.waitFor(/^dht1\/error dht: ok again$/, 15_000);
  });

  it('a hung board stops feeding its watchdog, which really reboots it (reset cause watchdog)', async () => {
    const s = await sub(['-v', '-t', 'mothership1/reset_cause']);
    await s.waitFor(/^mothership1\/reset_cause power-on$/, 10_000);
    const from = sim.output().length;
    sim.type('hang mothership1');
    await sim.after(from, /mothership1: watchdog fired: rebooting/, 20_000);
    await s.waitFor(/^mothership1\/reset_cause watchdog$/, 20_000);
    await sim.after(from, /all 6 boards online/, 30_000);
  });

  it('a bad command is answered and changes nothing', async () => {
    const from = sim.output().length;
    sim.type('wifi-off nosuchboard');
    await sim.after(from, /error: no board or kind 'nosuchboard'/, 5000);
    sim.type('status');
    await sim.after(from, /^6\/6 online$/, 5000);
  });
});
