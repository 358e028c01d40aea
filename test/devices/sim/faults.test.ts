// Faults on simulated boards running the unchanged firmware: Wi-Fi lost, then the broker restarted.
// Every board comes back online by itself and no QoS 1 message it published is lost.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../../firmware/harness/broker.js';
import { mosquittoSub, type Sub } from '../../firmware/harness/seeds.js';
import { type SimProcess, startSim } from './sim-process.js';

let broker: TestBroker;
let sim: SimProcess;
let observer: Sub;

beforeAll(async () => {
  broker = await startBroker();
  // A persistent QoS 1 session: what the boards publish while it is away (the broker restarting)
  // is kept for it, so a gap can only be the boards' doing.
  observer = await mosquittoSub(broker.port, [
    '-c',
    '-i',
    'sim-observer',
    '-q',
    '1',
    '-v',
    '-t',
    'to_mothership',
  ]);
  sim = startSim(broker.port, [
    '--fast',
    '--calm',
    '--seed',
    '2',
    '--boards',
    'mothership:2,dht',
    '--queue',
    '150',
  ]);
  await sim.waitFor(/all 3 boards online/, 60_000);
});
afterAll(async () => {
  observer?.stop();
  await sim?.stop();
  await broker?.close();
});

const numbers = () =>
  observer.lines
    .map((l) => /^to_mothership Test to mothership #(\d+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));

/** Each number from 0 to the highest seen, as many times as boards publish it (QoS 1 may add DUPs). */
function missing(boards: number): number[] {
  const count = new Map<number, number>();
  for (const n of numbers()) count.set(n, (count.get(n) ?? 0) + 1);
  // the highest numbers may still be on their way from the slower board: look below them
  const top = Math.max(...numbers()) - 2;
  const gaps: number[] = [];
  for (let i = 0; i <= top; i++) if ((count.get(i) ?? 0) < boards) gaps.push(i);
  return gaps;
}

it('Wi-Fi lost then the broker restarted: every board is back online by itself, no QoS 1 message lost', async () => {
  await observer.waitFor(/#2$/, 20_000);
  let from = sim.output().length;
  sim.type('wifi-off all 4');
  await sim.after(from, /wifi-off 3 boards for 4 s/, 5000);
  await sim.after(from, /all 3 boards online/, 60_000);
  const before = Math.max(...numbers());

  from = sim.output().length;
  await broker.stop(); // SIGTERM: the broker saves its sessions and goes away
  await sim.after(from, /mothership1: mqtt: (link lost|down)/, 30_000);
  await broker.restart();
  await sim.after(from, /all 3 boards online/, 60_000);
  // the observer reconnects by itself too; wait for messages published after everything is back
  await observer.waitFor(new RegExp(`#${before + 6}$`), 60_000);
  expect(missing(2)).toEqual([]);
  expect(sim.output()).not.toMatch(/reboot/); // recovered by the firmware, not by a reset
});
