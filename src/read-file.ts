import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type ErrorCode, MothershipError } from './errors.js';

/** `cannot read <what> <path>: no such file` — one wording for every file a user points us at. */
function unreadable(path: string, what: string, code: ErrorCode, err: unknown): MothershipError {
  const reason = (err as NodeJS.ErrnoException).code;
  const why = reason === 'ENOENT' ? 'no such file' : (reason ?? (err as Error).message);
  return new MothershipError(code, `cannot read ${what} ${path}: ${why}`, { cause: err });
}

/** Reads a user's text file (config, password file, ACL), failing with a typed error that names it. */
export async function readTextFile(path: string, what: string, code: ErrorCode): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw unreadable(path, what, code, err);
  }
}

/** The same, synchronous and binary (certificates and keys at listener start). */
export function readFileOrFail(path: string, what: string, code: ErrorCode): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw unreadable(path, what, code, err);
  }
}
