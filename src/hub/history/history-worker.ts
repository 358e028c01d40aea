/**
 * The history worker thread's entry (started by HistoryRecorder): a HistoryWriter driven by messages
 * from the broker's thread. Requests are handled in order, so a `run` sees every batch sent before it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type FromWriter, HistoryWriter, type ToWriter, type WriterThreadOptions } from './history-writer.js';

const port = parentPort;
if (port) {
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
