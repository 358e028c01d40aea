// What the ESP32's socket layer (lwIP under MicroPython's ports/esp32/modsocket.c) reports, for the
// board worker's sockets: its errno numbers (newlib's, not Linux's), its send buffer, its socket limit.

/** lwIP's TCP_SND_BUF in ESP-IDF's default config (4 segments): the most one write() takes. */
export const SND_BUF = 5760;
/** CONFIG_LWIP_MAX_SOCKETS as MicroPython's ESP32 builds set it: TCP and UDP sockets together. */
export const MAX_SOCKETS = 16;
/**
 * How long lwIP retransmits an unanswered SYN before the connect fails with ETIMEDOUT: ESP-IDF's
 * LWIP_TCP_SYNMAXRTX 12 over lwIP's backoff table from a 1.5 s RTO, about 100 s (approximate).
 */
export const SYN_GIVE_UP_MS = 100_000;
export const ERRNO = {
  EBADF: 9,
  ENFILE: 23,
  ECONNRESET: 104,
  ECONNABORTED: 113,
  ETIMEDOUT: 116,
  EHOSTUNREACH: 118,
};

/** The errno the board sees for a Node socket error: a RST, also in answer to a SYN, is ECONNRESET. */
export function lwipErrno(code) {
  switch (code) {
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EPIPE':
      return ERRNO.ECONNRESET;
    case 'ETIMEDOUT':
      return ERRNO.ETIMEDOUT;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return ERRNO.EHOSTUNREACH;
    default:
      return ERRNO.ECONNABORTED; // the connection is gone for a reason lwIP does not name
  }
}
