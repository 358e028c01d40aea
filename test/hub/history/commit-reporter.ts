import { writeSync } from 'node:fs';
import type { HistoryRecorder } from '../../../src/hub/history/index.js';

/**
 * For the crash tests' children: returns a check that prints `committed <messages>` (synchronously,
 * so a SIGKILL right after cannot lose the line) whenever the recorder has committed again.
 */
export function commitReporter(rec: HistoryRecorder): () => void {
  let commits = 0;
  return () => {
    const { commits: now, recorded, pending } = rec.stats();
    if (now === commits) return;
    commits = now;
    writeSync(1, `committed ${recorded - pending}\n`);
  };
}
