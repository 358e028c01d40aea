import { afterEach, describe, expect, it } from 'vitest';
import { openHistoryDb } from '../../../src/hub/history/history-db.js';
import { HistoryWriter } from '../../../src/hub/history/history-writer.js';
import { BatchPacker } from '../../../src/hub/history/message-batch.js';
import { resolveHistoryOptions } from '../../../src/hub/history/options.js';
import { cleanup, message, tempDir } from './helpers.js';

afterEach(cleanup);

/** The writer as its thread runs it, here on the test's thread. */
function writer(): HistoryWriter {
  const { now: _, onError: __, ...options } = resolveHistoryOptions({ dir: tempDir() });
  const { db, file } = openHistoryDb(options.dir, options.fileName);
  db.close();
  return new HistoryWriter(file, options, (err) => {
    throw err;
  });
}

describe('the history writer', () => {
  it('gives back the buffers of the hand-overs it has written, once, and none it has not', () => {
    const w = writer();
    const packer = new BatchPacker(() => 1024);
    const batches = [1, 2, 3].map((i) => {
      packer.append(message(`board/${i}`, String(i), Date.now()), `board-${i}`);
      const batch = packer.take();
      if (!batch) throw new Error('no batch');
      return batch;
    });
    w.add(batches[0]!);
    expect(w.takeSpent()).toEqual([]); // added, not written yet
    w.add(batches[1]!);
    w.add(batches[2]!);
    w.run('commit', Date.now());
    // Two at most go back (the packer keeps two); the third is left to the garbage collector.
    expect(w.takeSpent()).toEqual([batches[0]!.buffer, batches[1]!.buffer]);
    expect(w.takeSpent()).toEqual([]);
    expect(w.report()).toMatchObject({ processed: 3, samples: 3, commits: 1 });
    w.run('close', Date.now());
  });
});
