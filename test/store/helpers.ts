import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionRecord } from '../../src/broker/ports/persistence.js';
import type { Delivery } from '../../src/broker/session.js';
import type { Message } from '../../src/broker/types.js';
import type { SqliteStore } from '../../src/store/index.js';

/** A fresh temporary directory; `cleanup` removes every one made. */
const made: string[] = [];
export function tempDir(prefix = 'ms-store-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
export function cleanupTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function durable(store: SqliteStore): Promise<Error | undefined> {
  return new Promise((resolve) => store.afterDurable(resolve));
}

/** Every byte value, so a payload that is not valid UTF-8 must round-trip. */
export const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

export function message(topic: string, payload: Buffer | string, extra: Partial<Message> = {}): Message {
  return {
    topic,
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    qos: 1,
    retain: false,
    receivedAt: 1_795_000_000_000,
    ...extra,
  };
}

export function delivery(topic: string, payload: Buffer | string, extra: Partial<Delivery> = {}): Delivery {
  return { message: message(topic, payload), qos: 1, retain: false, ...extra };
}

export function sessionRecord(clientId: string, extra: Partial<SessionRecord> = {}): SessionRecord {
  return {
    clientId,
    protocolVersion: 5,
    username: undefined,
    expiryInterval: 3600,
    expiresAt: undefined,
    will: undefined,
    willDueAt: undefined,
    ...extra,
  };
}
