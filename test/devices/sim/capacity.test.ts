// How much one process holds: memory per interpreter board (a worker with its own MicroPython
// WebAssembly instance) and per light board, measured in this process as RSS growth, and what that
// makes on this machine. Figures, not deadlines: the assertions only bound them loosely.
// SIM_CAPACITY_BOARDS=N boots N interpreter boards (default 4).
import { freemem } from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Fleet } from '../../../src/devices/sim/fleet.js';
import { fleetOf } from '../../../src/devices/sim/kinds.js';
import { LightFleet } from '../../../src/devices/sim/light/light-fleet.js';
import { Random } from '../../../src/devices/sim/random.js';
import { startBroker, type TestBroker } from '../../firmware/harness/broker.js';
import { until } from '../../firmware/harness/wait.js';

const N = Number(process.env.SIM_CAPACITY_BOARDS ?? 4);
const LIGHT = 2000;
let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.close();
});

const rss = () => process.memoryUsage().rss;
const mb = (b: number) => (b / 2 ** 20).toFixed(1);
const common = () => ({
  broker: { host: '127.0.0.1', port: broker.port },
  fast: true,
  rng: new Random(4),
  calm: true,
  report: () => {},
});

it(`memory per interpreter board (${N} boards) and per light board (${LIGHT})`, {
  timeout: 400_000,
}, async () => {
  const r0 = rss();
  const fleet = await Fleet.start({ ...common(), specs: fleetOf(`mothership:${N}`, 1) });
  try {
    await until(() => fleet.online === N, 180_000, `${N} boards online`);
    const per = (rss() - r0) / N;
    console.log(
      `[figure] sim: ${mb(per)} MB RSS per interpreter board (${N} online); ${Math.floor(freemem() / per)} more would fit in this machine's free memory (${mb(freemem())} MB)`,
    );
    expect(per).toBeLessThan(64 * 2 ** 20);
  } finally {
    await fleet.stop();
  }
  const l0 = rss();
  // Real keepalive (60 s), not the fast 2 s: on a loaded machine 2,000 boards in one process would miss
  // 2 s keepalives and flap, and this measures memory, not timing.
  const light = new LightFleet({ ...common(), fast: false, specs: fleetOf(`mothership:${LIGHT}`, 1) });
  try {
    await until(() => light.online === LIGHT, 180_000, `${LIGHT} light boards online`);
    const per = (rss() - l0) / LIGHT;
    console.log(
      `[figure] sim --light: ${(per / 1024).toFixed(1)} KB RSS per light board (${LIGHT} online); memory alone would allow ${Math.floor(freemem() / per)}`,
    );
    expect(per).toBeLessThan(1 * 2 ** 20);
  } finally {
    await light.stop();
  }
});
