/** Reads a CA certificate a command was given; an unreadable one is a one-line error naming it. */
import { readFileSync } from 'node:fs';
import { ErrorCodes, MothershipError } from '../errors.js';

/** `what` names the file in the message, e.g. "--cafile". */
export function readCaFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new MothershipError(
      ErrorCodes.TLS_FILE_UNREADABLE,
      `cannot read ${what} ${path}: ${(err as Error).message}`,
    );
  }
}
