import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '../../../src/broker/types.js';
import { type HistoryOptions, HistoryRecorder } from '../../../src/hub/history/index.js';

const made: string[] = [];
const open: HistoryRecorder[] = [];

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ms-history-'));
  made.push(dir);
  return dir;
}

/** A recorder whose timer never fires during a test: the test commits with flush() (queries flush first). */
export function recorder(options: Partial<HistoryOptions> = {}): HistoryRecorder {
  const rec = new HistoryRecorder({ dir: tempDir(), commitIntervalMs: 1e9, ...options });
  open.push(rec);
  return rec;
}

export async function cleanup(): Promise<void> {
  for (const rec of open.splice(0)) await rec.close();
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function message(
  topic: string,
  payload: string | Buffer,
  receivedAt: number,
  extra: Partial<Message> = {},
): Message {
  return {
    topic,
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    qos: 0,
    retain: false,
    receivedAt,
    ...extra,
  };
}

/** Waits for a condition (checked every 10 ms) rather than for a fixed time; fails after `ms`. */
export async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
