/**
 * The device registry's last disconnects per client, kept in history.db so that they survive a
 * restart: the worker appends each one with the next commit (one small row) and keeps the newest
 * `PER_CLIENT` per client and `MAX_ROWS` in all; the broker's thread reads them once, at start.
 */
import type Database from 'better-sqlite3';

/** One disconnect as the registry records it (`reason` is its enumerated reason). */
export interface LoggedDisconnect {
  clientId: string;
  at: number;
  reason: string;
  address: string;
}

export const PER_CLIENT = 20;
/** 10,000 clients' worth (the registry tracks at most that many). */
const MAX_ROWS = 200_000;

/** Every kept disconnect, oldest first. */
export function loggedDisconnects(db: Database.Database): LoggedDisconnect[] {
  return db
    .prepare<[number], LoggedDisconnect>(
      `SELECT client_id AS clientId, t AS at, reason, address FROM
         (SELECT * FROM disconnects ORDER BY id DESC LIMIT ?) ORDER BY id`,
    )
    .all(MAX_ROWS);
}

/** The worker's side: appends and trims (inside the commit's transaction). */
export class DisconnectWriter {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      insert: db.prepare<[string, number, string, string]>(
        'INSERT INTO disconnects (client_id, t, reason, address) VALUES (?, ?, ?, ?)',
      ),
      trimClient: db.prepare<[string, string, number]>(
        `DELETE FROM disconnects WHERE client_id = ? AND id < (
           SELECT id FROM disconnects WHERE client_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
      ),
      trimAll: db.prepare<[number]>(
        'DELETE FROM disconnects WHERE id <= (SELECT max(id) FROM disconnects) - ?',
      ),
    };
  }

  write(batch: readonly LoggedDisconnect[]): void {
    const clients = new Set<string>();
    for (const d of batch) {
      this.s.insert.run(d.clientId, d.at, d.reason, d.address);
      clients.add(d.clientId);
    }
    for (const id of clients) this.s.trimClient.run(id, id, PER_CLIENT - 1);
    this.s.trimAll.run(MAX_ROWS);
  }
}
