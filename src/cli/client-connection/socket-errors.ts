/** A socket or TLS failure before the CONNACK, as mosquitto_pub/sub report it and exit with it. */

/** An unstarted-socket failure as mosquitto reports it (strerror text, or its own lookup error). */
export function socketErrorText(err: NodeJS.ErrnoException): string {
  const strerror: Record<string, string> = {
    ECONNREFUSED: 'Connection refused',
    ECONNRESET: 'Connection reset by peer',
    EHOSTUNREACH: 'No route to host',
    ENETUNREACH: 'Network is unreachable',
    ETIMEDOUT: 'Connection timed out',
    EADDRNOTAVAIL: 'Cannot assign requested address',
    ENOENT: 'No such file or directory',
    EACCES: 'Permission denied',
  };
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || err.code === 'EAI_FAIL') {
    return 'Unable to connect (Lookup error.).\n';
  }
  if (err.code && strerror[err.code]) return `Error: ${strerror[err.code]}\n`;
  if (isTlsError(err)) return `Error: A TLS error occurred.\n`;
  return `Error: ${err.message}\n`;
}

/** A failed TLS handshake or certificate check (Node names these ERR_TLS_*, ERR_SSL_* or by OpenSSL's reason). */
export function isTlsError(err: NodeJS.ErrnoException): boolean {
  return (
    err.code?.startsWith('ERR_TLS') === true ||
    err.code?.startsWith('ERR_SSL') === true ||
    /certificate|SSL|TLS/i.test(err.message)
  );
}

/** libmosquitto's MOSQ_ERR_TLS: mosquitto_pub/sub's exit code when the TLS handshake or verification fails. */
export const EXIT_TLS_ERROR = 8;
