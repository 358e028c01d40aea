import type { TlsOptions } from 'node:tls';
import { ErrorCodes } from '../errors.js';
import { readFileOrFail } from '../read-file.js';
import type { TlsFiles } from './listen-options.js';

function readFile(path: string, what: string): Buffer {
  return readFileOrFail(path, what, ErrorCodes.TLS_FILE_UNREADABLE);
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
