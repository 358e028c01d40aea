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
  /** Flashing: the ESP32 ROM bootloader never answered SYNC after the reset sequence. */
  FLASH_NO_BOOTLOADER: 'MS_FLASH_NO_BOOTLOADER',
  /** Flashing: the MD5 the chip computed over the written flash is not the image's. */
  FLASH_VERIFY_FAILED: 'MS_FLASH_VERIFY_FAILED',
  /** Flashing: the serial line closed (board unplugged) during the transfer. */
  FLASH_LINK_CLOSED: 'MS_FLASH_LINK_CLOSED',
  /** Flashing: the bootloader refused a command or stopped answering mid-way. */
  FLASH_FAILED: 'MS_FLASH_FAILED',
  /** No ESP32 found among the serial ports, or several and none chosen (`--port`). */
  SERIAL_NO_BOARD: 'MS_SERIAL_NO_BOARD',
  /** The serial port could not be opened (no such port, no permission, in use). */
  SERIAL_OPEN_FAILED: 'MS_SERIAL_OPEN_FAILED',
  /** The serial line went away while in use (board unplugged, adapter reset). */
  SERIAL_CLOSED: 'MS_SERIAL_CLOSED',
  /** The board does not answer as a MicroPython raw REPL (no MicroPython, or busy). */
  RAW_REPL_FAILED: 'MS_RAW_REPL_FAILED',
  /** Code run on the board over the raw REPL raised an exception (its traceback is the message). */
  BOARD_EXEC_FAILED: 'MS_BOARD_EXEC_FAILED',
  /** A file written to the board did not read back as sent. */
  BOARD_VERIFY_FAILED: 'MS_BOARD_VERIFY_FAILED',
  /** The provisioned board did not come online (its own messages say why). */
  PROVISION_FAILED: 'MS_PROVISION_FAILED',
  /** A bridge's bridge_cafile, bridge_capath, bridge_certfile or bridge_keyfile cannot be read. */
  BRIDGE_TLS_FILE_UNREADABLE: 'MS_BRIDGE_TLS_FILE_UNREADABLE',
  /** A bridge could not connect to its remote, or lost the link (its status' last error). */
  BRIDGE_LINK_FAILED: 'MS_BRIDGE_LINK_FAILED',
  /** `bridge add`: a bridge of that name (or local client id) exists already. HTTP 409. */
  BRIDGE_NAME_TAKEN: 'MS_BRIDGE_NAME_TAKEN',
  /** `bridge remove`: the bridge comes from the config file, which only an edit and SIGHUP change. HTTP 409. */
  BRIDGE_IN_CONFIG_FILE: 'MS_BRIDGE_IN_CONFIG_FILE',
  /** `bridge remove` without force: the bridge still holds messages its remote has not acknowledged. HTTP 409. */
  BRIDGE_QUEUE_NOT_EMPTY: 'MS_BRIDGE_QUEUE_NOT_EMPTY',
  /** `bridge add` on a hub without a data folder (persistence false): nowhere to keep it. HTTP 409. */
  BRIDGES_NOT_KEPT: 'MS_BRIDGES_NOT_KEPT',
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
