/**
 * The history worker thread's entry (started by HistoryRecorder): a HistoryWriter driven by messages
 * from the broker's thread. Requests are handled in order, so a `run` sees every batch sent before it.
 */
import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { type FromWriter, HistoryWriter, type ToWriter, type WriterThreadOptions } from './history-writer.js';

/**
 * The writer runs at the lowest CPU priority (nice 19; Linux keeps a priority per thread): on a busy
 * machine the broker's routing comes first, and the writer takes what is left, its backlog bounded by
 * `maxPendingMessages`.
 */
function yieldToTheBroker(): void {
  try {
    // `/proc/thread-self` links to `<pid>/task/<this thread's id>`.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, constants.priority.PRIORITY_LOW);
  } catch {
    // not Linux: the writer keeps the process's priority
  }
}

const port = parentPort;
if (port) {
  yieldToTheBroker();
  const { file, options } = workerData as { file: string; options: WriterThreadOptions };
  const send = (m: FromWriter) => port.postMessage(m);
  const writer = new HistoryWriter(file, options, (err) => send({ type: 'error', message: err.message }));
  port.on('message', (m: ToWriter) => {
    if (m.type === 'batch') {
      writer.add(m.batch);
      return;
    }
    if (m.type === 'disconnect') {
      writer.addDisconnect(m.disconnect);
      return;
    }
    const result = writer.run(m.op, m.now);
    send({ type: 'done', id: m.id, counts: writer.report(), ...(result ? { result } : {}) });
    if (m.op === 'close') port.close();
  });
}
