/**
 * The in-process client (a bridge's local side) over a real SQLite store: a message it takes from its
 * journaled queue stays a queue row while in flight (no in-flight row written and deleted), and the
 * rows of acknowledged messages are deleted in groups, all of them by the time the far side goes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { InProcessClient } from '../../src/broker/in-process-client.js';
import { NEVER_EXPIRES } from '../../src/broker/session.js';
import { Broker } from '../../src/index.js';
import { openSqliteStore } from '../../src/store/index.js';

let dir: string | undefined;
let broker: Broker | undefined;
let opened: Database.Database | undefined;
afterEach(async () => {
  opened?.close();
  opened = undefined;
  await broker?.close();
  broker = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const CLIENT = 'local.bridge';

async function bridgeSide(): Promise<{ local: InProcessClient; rows: (table: string) => number }> {
  dir = mkdtempSync(join(tmpdir(), 'ms-in-process-'));
  const store = openSqliteStore({ dir, policy: { mode: 'grouped', maxDelayMs: 0 } });
  broker = new Broker({ sysInterval: 0, persistence: store });
  await broker.ready;
  const local = broker.inProcessClient({
    clientId: CLIENT,
    sessionExpiry: NEVER_EXPIRES,
    cleanStart: false,
    limits: { maxInflightMessages: 100 },
  });
  local.subscribe([{ filter: 'fleet/#', qos: 1 }]);
  const db = new Database(store.file, { readonly: true });
  opened = db;
  const rows = (table: string) => {
    store.flush(); // what the broker wrote, committed: the file is what a crash would leave
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE client_id = ?`).get(CLIENT) as { n: number })
      .n;
  };
  return { local, rows };
}

describe('an in-process client draining its journaled queue', () => {
  it('keeps each message in flight as its queue row only, and deletes the acknowledged ones in a group', async () => {
    const { local, rows } = await bridgeSide();
    for (let i = 0; i < 50; i++) broker!.publish({ topic: `fleet/t${i % 5}`, payload: String(i), qos: 1 });
    expect(rows('queue')).toBe(50);

    const sent: { packetId: number; payload: string; dup: boolean }[] = [];
    local.attach({
      receiveMaximum: 10,
      release: () => {},
      send: (d, packetId, dup) => {
        sent.push({ packetId: packetId!, payload: d.message.payload.toString(), dup });
        return true;
      },
    });
    expect(sent.map((s) => s.payload)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    // Ten in flight: no in-flight row for them, their queue rows stand for them.
    expect(rows('inflight')).toBe(0);
    expect(rows('queue')).toBe(50);
    expect(local.session.queuedCount + local.session.inflight.size).toBe(50);

    for (const s of sent.splice(0, 9)) local.acknowledge(s.packetId);
    // Nine acknowledged: their rows wait for the group (a crash would resend them, within one window).
    expect(rows('queue')).toBe(50);
    for (const s of sent.splice(0, 1)) local.acknowledge(s.packetId);
    // A whole window acknowledged: its rows go, so a crash never resends more than one window.
    expect(rows('queue')).toBe(40);
    // The next ten went out.
    expect(sent.map((s) => s.payload)).toEqual(Array.from({ length: 10 }, (_, i) => String(i + 10)));
    expect(local.session.queuedCount + local.session.inflight.size).toBe(40);
    expect(rows('inflight')).toBe(0);

    // The link goes: the group is deleted at once, what is still in flight stays on disk.
    local.detach();
    expect(rows('queue')).toBe(40);
    expect(rows('inflight')).toBe(0);

    // Back: the ten in flight are resent (DUP) from memory, then the queue goes on in order.
    local.attach({
      receiveMaximum: 10,
      release: () => {},
      send: (d, packetId, dup) => {
        sent.push({ packetId: packetId!, payload: d.message.payload.toString(), dup });
        return true;
      },
    });
    expect(sent.slice(10).every((s) => s.dup)).toBe(true);
    expect(sent.slice(10).map((s) => s.payload)).toEqual(sent.slice(0, 10).map((s) => s.payload));
    const all = sent.splice(0);
    for (const s of all.slice(10)) local.acknowledge(s.packetId);
    expect(sent.map((s) => s.payload)).toEqual(Array.from({ length: 10 }, (_, i) => String(i + 20)));
    local.end();
    expect(rows('queue')).toBe(30);
  });

  it('deletes the rows of acknowledged messages within a group, without the far side going', async () => {
    const { local, rows } = await bridgeSide();
    for (let i = 0; i < 300; i++) broker!.publish({ topic: 'fleet/a', payload: String(i), qos: 1 });
    let last = -1;
    const ids: number[] = [];
    local.attach({
      receiveMaximum: 20,
      release: () => {},
      send: (d, packetId) => {
        last = Number(d.message.payload.toString());
        ids.push(packetId!);
        return true;
      },
    });
    // Acknowledge as a far side would, until all 300 went: a full group is deleted at once.
    for (let n = 0; n < 300 && ids.length > 0; n++) local.acknowledge(ids.shift()!);
    expect(last).toBe(299);
    expect(rows('queue')).toBeLessThanOrEqual(300 - 256);
    // The rest within the group's delay, with no new message to push it.
    const deadline = Date.now() + 30_000;
    while (rows('queue') > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(rows('queue')).toBe(0);
  });
});
