// Waiting on events rather than sleeping: conditions polled until they hold, and the seeds'
// mosquitto_pub used to check that a board's subscription works.
import type { Board } from '../../../src/devices/sim/board.js';
import { mosquittoPub } from './seeds.js';

export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Publishes `probe-<k>` on from_mothership (QoS 1) with the seed's mosquitto_pub until the board
 * prints one of them; resolves with the time that took. Only a message sent by this call counts.
 */
export async function probe(b: Board, port: number, timeoutMs: number, perTryMs = 300): Promise<number> {
  const t0 = Date.now();
  for (let k = 0; Date.now() - t0 < timeoutMs; k++) {
    await mosquittoPub(port, ['-q', '1', '-t', 'from_mothership', '-m', `probe-${k}`]);
    try {
      await b.waitFor(new RegExp(`^\\('from_mothership', b'probe-${k}'\\)$`), perTryMs, t0);
      return Date.now() - t0;
    } catch {
      // not subscribed (again) yet: try the next one
    }
  }
  throw new Error(`board did not get from_mothership within ${timeoutMs} ms`);
}
