/**
 * Child process for journal-crash.test.ts: records 10 messages every 20 ms (topic j/k%2, payload
 * {"k":k}, time BASE + k) with a commit every 100 ms, and prints `committed <messages>` after each
 * commit. Between folds (about once a minute) a commit writes only the samples' journal row: the parent
 * kills it then. Usage: node --import tsx test/hub/history/journal-crash-child.ts <dir>
 */
import { HistoryRecorder } from '../../../src/hub/history/index.js';
import { commitReporter } from './commit-reporter.js';

const BASE = Date.now();
const rec = new HistoryRecorder({ dir: process.argv[2]!, commitIntervalMs: 100 });
const report = commitReporter(rec);
let next = 0;
setInterval(() => {
  for (let j = 0; j < 10; j++, next++) {
    const k = next;
    rec.record({
      topic: `j/${k % 2}`,
      payload: Buffer.from(JSON.stringify({ k })),
      qos: 0,
      retain: false,
      receivedAt: BASE + k,
    });
  }
  report();
}, 20);
