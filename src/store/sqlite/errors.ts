import { ErrorCodes, MothershipError } from '../../errors.js';

/** A database found damaged at open (header, integrity check, empty file, schema). */
export class DamagedError extends Error {
  readonly damaged = true;
}

export function isDamaged(err: unknown): boolean {
  if (err instanceof DamagedError) return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'));
}

function sqliteCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'unknown';
}

export function writeError(file: string, cause: unknown): MothershipError {
  const code = sqliteCode(cause);
  const reason = (cause as Error).message;
  if (
    code === 'SQLITE_FULL' ||
    code.startsWith('SQLITE_IOERR') ||
    code === 'SQLITE_CANTOPEN' ||
    code === 'SQLITE_NOMEM' ||
    code === 'SQLITE_BUSY' ||
    code.startsWith('SQLITE_READONLY')
  ) {
    return new MothershipError(
      ErrorCodes.STORE_FULL,
      `Cannot write to ${file}: the disk is full or failing (${code}: ${reason}). The writes are kept and ` +
        'retried every second; QoS 1/2 publishes are refused meanwhile.',
      { cause },
    );
  }
  if (isDamaged(cause)) {
    return new MothershipError(
      ErrorCodes.STORE_CORRUPT,
      `The database ${file} is damaged (${code}: ${reason}). Stop Mothership and see docs/persistence.md ` +
        '("Recovering from a damaged database").',
      { cause },
    );
  }
  return new MothershipError(
    ErrorCodes.STORE_WRITE_FAILED,
    `Cannot write to ${file} (${code}: ${reason}). The writes are kept and retried every second; QoS 1/2 ` +
      'publishes are refused meanwhile.',
    { cause },
  );
}

export function closedError(): MothershipError {
  return new MothershipError(ErrorCodes.STORE_CLOSED, 'The store is closed.');
}
