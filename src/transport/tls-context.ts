import { readFileSync } from 'node:fs';
import type { TlsOptions } from 'node:tls';
import { ErrorCodes, MothershipError } from '../errors.js';
import type { TlsFiles } from './listen-options.js';

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new MothershipError(ErrorCodes.TLS_FILE_UNREADABLE, `cannot read ${what} '${path}': ${reason}`);
  }
}

/** Node TLS server options from mosquitto's certfile/keyfile/cafile/require_certificate. */
export function tlsServerOptions(files: TlsFiles): TlsOptions {
  const options: TlsOptions = {
    cert: readFile(files.certfile, 'certfile'),
    key: readFile(files.keyfile, 'keyfile'),
  };
  if (files.cafile) options.ca = readFile(files.cafile, 'cafile');
  if (files.requireCertificate) {
    options.requestCert = true;
    options.rejectUnauthorized = true;
  }
  return options;
}
