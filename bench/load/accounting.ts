/** After publishing stops: every message sent must arrive (QoS 1: and be acknowledged to its publisher). */
import { deliveriesPerPublish, type MessageLoad } from '../scenarios.js';
import { C, type WorkerReport } from './protocol.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until everything sent has arrived, at most `drainMs`, then a little more for duplicates. */
export async function drain(s: MessageLoad, i32: Int32Array): Promise<void> {
  const fanout = deliveriesPerPublish(s);
  const done = () =>
    Atomics.load(i32, C.DELIVERED) >= Atomics.load(i32, C.SENT) * fanout &&
    (s.qos === 0 || Atomics.load(i32, C.PUBACKS) >= Atomics.load(i32, C.SENT));
  const drainEnd = Date.now() + s.drainMs;
  while (!done() && Date.now() < drainEnd) await sleep(10);
  await sleep(50); // anything beyond the expected count (duplicates) shows up here
}

/** What was sent, expected and delivered over the whole run; what went wrong goes into `problems`. */
export function count(
  s: MessageLoad,
  i32: Int32Array,
  reports: WorkerReport[],
  problems: string[],
): { sent: number; expected: number; delivered: number } {
  const sent = Atomics.load(i32, C.SENT);
  const lostConnections = reports.reduce((x, r) => x + r.lostConnections, 0);
  for (const r of reports) problems.push(...r.problems);
  if (lostConnections) problems.push(`${lostConnections} connections lost during the run`);
  if (s.qos > 0 && Atomics.load(i32, C.PUBACKS) !== sent) {
    problems.push(`${Atomics.load(i32, C.PUBACKS)} PUBACKs for ${sent} QoS 1 messages`);
  }
  return { sent, expected: sent * deliveriesPerPublish(s), delivered: Atomics.load(i32, C.DELIVERED) };
}
