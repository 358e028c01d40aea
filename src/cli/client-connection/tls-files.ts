/** The TLS side of the client options: --cafile/--capath/--cert/--key read, --tls-version checked. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type tls from 'node:tls';
import type { ClientOptions } from '../client-flags/options.js';

/** Reads --cafile/--capath/--cert/--key; undefined (after mosquitto's message) when one is missing. */
export function loadTlsFiles(opts: ClientOptions): tls.ConnectionOptions | string {
  try {
    const ca: Buffer[] = [];
    if (opts.cafile) ca.push(readFileSync(opts.cafile));
    if (opts.capath) {
      for (const name of readdirSync(opts.capath)) {
        if (/\.(pem|crt|cer)$/i.test(name)) ca.push(readFileSync(join(opts.capath, name)));
      }
    }
    const versions: Record<string, tls.SecureVersion> = {
      'tlsv1.3': 'TLSv1.3',
      'tlsv1.2': 'TLSv1.2',
      'tlsv1.1': 'TLSv1.1',
    };
    if (opts.tlsVersion !== undefined && !versions[opts.tlsVersion]) {
      return 'Error: Problem setting TLS options, check the options are valid.\n';
    }
    const version = opts.tlsVersion ? versions[opts.tlsVersion] : undefined;
    return {
      ...(ca.length > 0 ? { ca } : {}),
      ...(opts.cert ? { cert: readFileSync(opts.cert) } : {}),
      ...(opts.key ? { key: readFileSync(opts.key) } : {}),
      ...(opts.ciphers ? { ciphers: opts.ciphers } : {}),
      ...(version ? { minVersion: version, maxVersion: version } : {}),
      ...(opts.tlsAlpn ? { ALPNProtocols: [opts.tlsAlpn] } : {}),
      rejectUnauthorized: true,
      // --insecure skips only the host name check; the chain is still verified, as with mosquitto.
      ...(opts.insecure ? { checkServerIdentity: () => undefined } : {}),
    };
  } catch {
    return 'Error: Problem setting TLS options: File not found.\n';
  }
}
