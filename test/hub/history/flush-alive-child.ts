/**
 * Awaits flush() while one of the recorder's timed ticks is still waiting for the writer, with nothing
 * else keeping the process alive; prints `flushed <commits>` when every flush settled.
 * Usage: node --import tsx test/hub/history/flush-alive-child.ts <dir>
 */
import { HistoryRecorder } from '../../../src/hub/history/index.js';

const rec = new HistoryRecorder({ dir: process.argv[2]!, commitIntervalMs: 1e9 });
await rec.flush();
for (let i = 0; i < 20; i++) {
  rec.record({ topic: 'a', payload: Buffer.from(String(i)), qos: 0, retain: false, receivedAt: Date.now() });
  // What the commit timer does (its requests do not keep the process alive), just before a caller flushes.
  void (rec as unknown as { request(op: 'tick'): Promise<unknown> }).request('tick');
  await rec.flush();
}
process.stdout.write(`flushed ${rec.stats().commits}\n`);
await rec.close();
