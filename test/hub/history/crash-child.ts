/**
 * Child process for crash.test.ts: records messages as fast as the writer keeps up through a HistoryRecorder with
 * the default 1 s commit timer and prints `committed <messages>` (synchronously) after each commit.
 * Message k has topic crash/k%4, payload {"k":k, ...8 fields} and time BASE + k. The parent kills it.
 * Usage: node --import tsx test/hub/history/crash-child.ts <dir> <messages>
 */
import { HistoryRecorder } from '../../../src/hub/history/index.js';
import { commitReporter } from './commit-reporter.js';

const [dir, countArg] = process.argv.slice(2);
const count = Number(countArg);
const BASE = Date.now(); // recent: the recorder's own retention keeps it
const rec = new HistoryRecorder({ dir: dir!, maxPendingMessages: 1_000_000 });
const report = commitReporter(rec);

let next = 0;
function burst(): void {
  // As fast as the worker keeps up: a backlog beyond this would be dropped by a default recorder.
  const room = rec.stats().pending < 20_000 ? 200 : 0;
  for (let j = 0; j < room && next < count; j++, next++) {
    const k = next;
    const payload = JSON.stringify({
      k,
      a: k % 7,
      b: k % 11,
      c: k / 3,
      d: [k % 2, k % 3],
      e: { f: k % 5, g: 1 },
    });
    rec.record({
      topic: `crash/${k % 4}`,
      payload: Buffer.from(payload),
      qos: 0,
      retain: false,
      receivedAt: BASE + k,
    });
  }
  report();
  if (next < count) setImmediate(burst);
}
burst();
