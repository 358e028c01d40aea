import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryRecorder } from '../../../src/hub/history/index.js';
import { cleanup, message, recorder, tempDir } from './helpers.js';
import { oldHistoryDb } from './old-schema.js';

afterEach(cleanup);

const blockRows = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare<[], { topic: string; count: number }>(
        'SELECT topic, count FROM message_blocks JOIN topics ON topics.id = topic_id ORDER BY message_blocks.id',
      )
      .all();
  } finally {
    db.close();
  }
};

describe('the message log in blocks', () => {
  it('keeps one row per topic and commit, serves exactly the last 100 across commits, and deletes blocks newer ones make up for', async () => {
    const rec = recorder();
    let n = 0;
    for (let commit = 0; commit < 7; commit++) {
      for (let i = 0; i < 30; i++) {
        rec.record(message('log/a', `m${n}`, 1000 + n));
        n++;
      }
      rec.record(message('log/b', `b${commit}`, 1000 + n));
      await rec.flush();
    }
    const kept = await rec.messages('log/a', 1000);
    expect(kept.map((m) => m.payload.toString())).toEqual(
      Array.from({ length: 100 }, (_, i) => `m${209 - i}`),
    );
    expect(kept.map((m) => m.time)).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + 209 - i));
    expect((await rec.messages('log/a', 3)).map((m) => m.payload.toString())).toEqual([
      'm209',
      'm208',
      'm207',
    ]);
    // 30 + 30 + 30 newest messages are not 100: the fourth block stays, the older ones are gone.
    expect(blockRows(rec.file).filter((r) => r.topic === 'log/a')).toEqual(
      Array.from({ length: 4 }, () => ({ topic: 'log/a', count: 30 })),
    );
    expect(blockRows(rec.file).filter((r) => r.topic === 'log/b')).toHaveLength(7);
  });

  it('serves exactly the newest messages within the byte cap across commits, and a block keeps no more than that', async () => {
    const rec = recorder({ messageBytesPerTopic: 100 });
    for (let commit = 0; commit < 4; commit++) {
      for (let i = 0; i < 5; i++) rec.record(message('cap/a', Buffer.alloc(30, 10 * commit + i), 1000));
      await rec.flush();
    }
    // 3 × 30 bytes fit in 100, a fourth would not: the newest three, from the last commit.
    expect((await rec.messages('cap/a')).map((m) => m.payload[0])).toEqual([34, 33, 32]);
    expect(blockRows(rec.file)).toEqual([{ topic: 'cap/a', count: 3 }]);
    rec.record(message('cap/a', Buffer.alloc(20, 40), 2000));
    await rec.flush();
    // 20 + 30 + 30 + 30 > 100: the newest four would not fit, the newest three do, across two blocks.
    expect((await rec.messages('cap/a')).map((m) => m.payload[0])).toEqual([40, 34, 33]);
    expect(blockRows(rec.file).map((r) => r.count)).toEqual([3, 1]);
  });

  it('a history.db of schema 1 (a row per message) is converted when opened: the same messages, newest first', async () => {
    const dir = tempDir();
    const file = join(dir, 'history.db');
    const old = oldHistoryDb(
      dir,
      `
      CREATE TABLE messages (id INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL, t INTEGER NOT NULL,
        qos INTEGER NOT NULL, retain INTEGER NOT NULL, client_id TEXT, properties TEXT, size INTEGER NOT NULL,
        payload BLOB NOT NULL);
      CREATE INDEX messages_by_topic ON messages (topic_id, id);
      INSERT INTO topics (id, topic) VALUES (1, 'old/a'), (2, 'old/b');
      INSERT INTO series (id, topic, path, unit) VALUES (1, 'old/a', '[]', NULL);
      INSERT INTO raw (series_id, t, v) VALUES (1, 1000, 1), (1, 2000, 2);
      PRAGMA user_version = 1;
    `,
    );
    const insert = old.prepare(
      'INSERT INTO messages (topic_id, t, qos, retain, client_id, properties, size, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    insert.run(1, 1000, 0, 0, 'board-1', null, 1, Buffer.from('1'));
    insert.run(2, 1500, 1, 1, null, '{"contentType":"text/plain"}', 5000, Buffer.from('cut'));
    insert.run(1, 2000, 1, 0, 'board-1', null, 1, Buffer.from('2'));
    old.close();

    const rec = new HistoryRecorder({ dir, commitIntervalMs: 1e9 });
    try {
      expect(rec.movedAside).toBeUndefined();
      expect(await rec.messages('old/a')).toEqual([
        {
          topic: 'old/a',
          time: 2000,
          qos: 1,
          retain: false,
          properties: undefined,
          clientId: 'board-1',
          payload: Buffer.from('2'),
          size: 1,
        },
        {
          topic: 'old/a',
          time: 1000,
          qos: 0,
          retain: false,
          properties: undefined,
          clientId: 'board-1',
          payload: Buffer.from('1'),
          size: 1,
        },
      ]);
      expect(await rec.messages('old/b')).toEqual([
        {
          topic: 'old/b',
          time: 1500,
          qos: 1,
          retain: true,
          properties: { contentType: 'text/plain' },
          clientId: undefined,
          payload: Buffer.from('cut'),
          size: 5000,
        },
      ]);
      // The series are untouched, and new messages go on after the old ones.
      expect(
        (await rec.query({ topic: 'old/a', path: [] }, { from: 0, to: 3000, width: 10, tier: 'raw' }))?.points
          .length,
      ).toBe(2);
      rec.record(message('old/a', '3', 3000));
      expect((await rec.messages('old/a')).map((m) => m.payload.toString())).toEqual(['3', '2', '1']);
    } finally {
      await rec.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(3);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'messages'").all()).toEqual([]);
    } finally {
      db.close();
    }
  });
});
