/**
 * The one catalogue of Mothership's error codes. Every code is stable, documented in docs/errors.md,
 * and carried by a MothershipError so callers branch on `err.code`, never on message text.
 */
export const ErrorCodes = {
  PORT_IN_USE: 'MS_PORT_IN_USE',
  BIND_ADDRESS_INVALID: 'MS_BIND_ADDRESS_INVALID',
  CONFIG_INVALID_VALUE: 'MS_CONFIG_INVALID_VALUE',
  CONFIG_UNKNOWN_DIRECTIVE: 'MS_CONFIG_UNKNOWN_DIRECTIVE',
  CONFIG_FILE_UNREADABLE: 'MS_CONFIG_FILE_UNREADABLE',
  TLS_FILE_UNREADABLE: 'MS_TLS_FILE_UNREADABLE',
  PASSWORD_FILE_INVALID: 'MS_PASSWORD_FILE_INVALID',
  ACL_FILE_INVALID: 'MS_ACL_FILE_INVALID',
  AUTH_FILE_UNREADABLE: 'MS_AUTH_FILE_UNREADABLE',
  USAGE: 'MS_USAGE',
  STORE_CORRUPT: 'MS_STORE_CORRUPT',
  STORE_FULL: 'MS_STORE_FULL',
  BROKER_CLOSED: 'MS_BROKER_CLOSED',
  INVALID_TOPIC: 'MS_INVALID_TOPIC',
  CERT_EXISTS: 'MS_CERT_EXISTS',
  CERT_DIR_UNWRITABLE: 'MS_CERT_DIR_UNWRITABLE',
  CERT_INVALID: 'MS_CERT_INVALID',
  /** The database was written by a newer Mothership (schema version above what this build knows). */
  STORE_TOO_NEW: 'MS_STORE_TOO_NEW',
  /** A write to the store failed for a reason other than a full disk or an I/O error. */
  STORE_WRITE_FAILED: 'MS_STORE_WRITE_FAILED',
  /** The store was used after close(). */
  STORE_CLOSED: 'MS_STORE_CLOSED',
  LOG_FILE_UNWRITABLE: 'MS_LOG_FILE_UNWRITABLE',
  /** The hub's API: a request it cannot read (bad JSON, a missing or invalid field). HTTP 400/413/415. */
  HUB_BAD_REQUEST: 'MS_HUB_BAD_REQUEST',
  /** The hub's API: the requester must log in (not anonymous-allowed from this address). HTTP 401. */
  HUB_LOGIN_REQUIRED: 'MS_HUB_LOGIN_REQUIRED',
  /** The hub's API: the ACL does not give this user the right for this topic or action. HTTP 403. */
  HUB_FORBIDDEN: 'MS_HUB_FORBIDDEN',
  /** The hub's API: a state-changing request without `X-Mothership: 1` or from another origin. HTTP 403. */
  HUB_CROSS_SITE: 'MS_HUB_CROSS_SITE',
  /** The hub's API: no such endpoint, device, client or topic. HTTP 404. */
  HUB_NOT_FOUND: 'MS_HUB_NOT_FOUND',
  /** The hub's API failed on a request in a way it did not expect (a bug): HTTP 500, the hub goes on. */
  HUB_INTERNAL: 'MS_HUB_INTERNAL',
  /** The history database cannot be opened (folder not writable, written by a newer Mothership). */
  HISTORY_UNAVAILABLE: 'MS_HISTORY_UNAVAILABLE',
  /** A bridge's bridge_cafile, bridge_capath, bridge_certfile or bridge_keyfile cannot be read. */
  BRIDGE_TLS_FILE_UNREADABLE: 'MS_BRIDGE_TLS_FILE_UNREADABLE',
  /** A bridge could not connect to its remote, or lost the link (its status' last error). */
  BRIDGE_LINK_FAILED: 'MS_BRIDGE_LINK_FAILED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class MothershipError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'MothershipError';
  }
}

export function isMothershipError(err: unknown, code?: ErrorCode): err is MothershipError {
  return err instanceof MothershipError && (code === undefined || err.code === code);
}
