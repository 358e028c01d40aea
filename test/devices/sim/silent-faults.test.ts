// Faults that say nothing on the wire, as on a real board: a power cut sends no FIN (the broker must
// notice by its keepalive and publish the will), and a broker that becomes unreachable while Wi-Fi
// stays up (the connection goes silent, new connects go unanswered). Checked against `mothership up`,
// whose log says why each client went, and with mosquitto_sub on the boards' status topics.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mosquittoSub, type Sub } from '../../firmware/harness/seeds.js';
import { type RunningCli, startCli } from '../../helpers/cli.js';
import { type SimProcess, startSim } from './sim-process.js';

let broker: RunningCli;
let sim: SimProcess;
let status: Sub;

beforeAll(async () => {
  broker = startCli(['up', '-p', '0', '--host', '127.0.0.1', '--no-ws', '--no-mdns', '--no-persistence']);
  const port = Number((await broker.waitFor(/mqtt:\/\/127\.0\.0\.1:(\d+)/, 30_000))[1]);
  status = await mosquittoSub(port, ['-v', '-t', '+/status', '-t', '+/reset_cause']);
  // mothership2 is the control: nothing happens to it, and it must stay connected throughout.
  sim = startSim(port, ['--fast', '--calm', '--seed', '5', '--boards', 'mothership:2', '-v']);
  await sim.waitFor(/all 2 boards online/, 60_000);
}, 90_000);
afterAll(async () => {
  status?.stop();
  await sim?.stop();
  await broker?.stop();
});

/** Lines of `text` from character `from` on that match `re`. */
const linesOf = (text: string, from: number, re: RegExp) =>
  text
    .slice(from)
    .split('\n')
    .filter((l) => re.test(l));

/** The status lines mosquitto_sub printed after the first `n`. */
const statusAfter = (n: number) => status.lines.slice(n).filter((l) => /^\S+\/(status|reset_cause) /.test(l));

async function until(check: () => boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}\nbroker:\n${broker.output().slice(-2000)}\nsim:\n${sim.output().slice(-2000)}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Types the fault, waits for mothership1's will, and checks the broker learnt of it by its keepalive,
 * not from the socket (a FIN would be logged as "closed its connection"). Where each output was.
 */
async function faultTillWill(command: string) {
  const fromBroker = broker.output().length;
  const fromSim = sim.output().length;
  const seen = status.lines.length;
  sim.type(command);
  await until(
    () => statusAfter(seen).includes('mothership1/status offline'),
    'the will of mothership1',
    30_000,
  );
  const gone = linesOf(broker.output(), fromBroker, /Client mothership1 /);
  expect(gone).toHaveLength(1);
  expect(gone[0]).toMatch(/has exceeded timeout, disconnecting/);
  return { fromBroker, fromSim, seen };
}

it('a power cut sends no FIN: the broker drops the board by its keepalive and publishes the will; power back, it boots and is online again', async () => {
  const { fromBroker, fromSim, seen } = await faultTillWill('power-off mothership1 8');

  await sim.after(fromSim, /mothership1: power on/, 30_000);
  await until(
    () => statusAfter(seen).includes('mothership1/reset_cause power-on'),
    'the new boot of mothership1',
    30_000,
  );
  await sim.after(fromSim, /all 2 boards online/, 60_000);
  expect(statusAfter(seen).filter((l) => l.startsWith('mothership1/status'))).toEqual([
    'mothership1/status offline',
    'mothership1/status online',
  ]);
  expect(linesOf(broker.output(), fromBroker, /Client mothership2 /)).toEqual([]);
}, 120_000);

it('the broker unreachable while Wi-Fi stays up: the board notices by its keepalive, its connects go unanswered, the broker publishes the will; reachable again, it is back by itself', async () => {
  const { fromBroker, fromSim, seen } = await faultTillWill('broker-unreachable mothership1 10');
  // The firmware's own keepalive noticed the silence; its next connects timed out (no answer,
  // not refused) and it never lost its Wi-Fi.
  await sim.after(fromSim, /mothership1: mqtt: link lost: .*keepalive/, 30_000);
  await sim.after(fromSim, /mothership1: mqtt: connect failed/, 30_000);
  await sim.after(fromSim, /mothership1: broker reachable again/, 30_000);
  await sim.after(fromSim, /all 2 boards online/, 60_000);
  const during = sim.output().slice(fromSim);
  expect(during).not.toMatch(/mothership1: wifi: /);
  expect(during).not.toMatch(/mothership1: mqtt: connect failed: .*(104|ECONNRESET|118)/);
  expect(during).not.toMatch(/reboot|power/);
  await until(
    () => statusAfter(seen).includes('mothership1/status online'),
    'mothership1 online again',
    30_000,
  );
  expect(linesOf(broker.output(), fromBroker, /Client mothership2 /)).toEqual([]);
}, 120_000);
