// The board's TCP sockets for the shims in _harness.py and tls.py: Node sockets that behave as
// lwIP's under MicroPython on an ESP32 (see lwip.mjs): errno numbers, partial writes, a socket
// limit, connects that fail without Wi-Fi, and TLS handshakes run by Node with what the firmware gave.
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { ERRNO, lwipErrno, SND_BUF, SYN_GIVE_UP_MS } from './lwip.mjs';

// The shims turn a rejection whose message is a number into OSError(number), as lwIP raises it.
const errno = (name) => new Error(String(ERRNO[name]));
const lwipError = (e) => new Error(String(lwipErrno(e.code)));

/**
 * post: to board.ts; inRange/joined: the Wi-Fi state; udpSockets: how many UDP sockets are open
 * (lwIP's limit counts both kinds); reach: 'loopback' (tests: nothing else) or 'any' (the sim).
 */
export function createTcp({ post, inRange, joined, maxSockets, udpSockets, reach = 'loopback' }) {
  const socks = new Map();
  const orphans = [];
  let nextSid = 1;
  // The broker unreachable while Wi-Fi stays up (its host down, a router dropping packets): nothing
  // gets through either way and new connects go unanswered. `dead`: the board lost power.
  let blackhole = false;
  let dead = false;
  /** SYNs sent into the blackhole: each holds a socket until lwIP gives up on it. */
  let unanswered = 0;
  /** Connects the firmware still waits for, oldest first: abandon() frees one it gave up on. */
  const pending = new Set();
  const link = () => inRange() && !blackhole && !dead;
  const openSockets = () => socks.size + udpSockets() + unanswered;
  const postSockets = () => post({ type: 'sockets', open: openSockets() });

  function wake(s) {
    const w = s.waiter;
    if (!w || !link()) return;
    if (s.chunks.length) {
      const all = Buffer.concat(s.chunks);
      s.chunks = all.length > w.n ? [all.subarray(w.n)] : [];
      s.waiter = undefined;
      w.resolve(new Uint8Array(all.subarray(0, w.n)));
    } else if (s.error) {
      s.waiter = undefined;
      w.reject(lwipError(s.error));
    } else if (s.eof) {
      s.waiter = undefined;
      w.resolve(new Uint8Array(0)); // the peer's FIN: a read returns b''
    }
  }

  /**
   * As lwIP's non-blocking connect under asyncio.open_connection: no route (no Wi-Fi) fails at once
   * with EHOSTUNREACH; otherwise the socket exists from now on and the promise resolves once it is
   * writable, connected or not: a refused connect is an ECONNRESET at the first write or read.
   */
  function netConnect(host, port) {
    const loopback = host === '127.0.0.1' || host === 'localhost';
    if (!loopback && reach !== 'any') {
      return Promise.reject(new Error(`test boards only reach loopback, not ${host}`));
    }
    if (openSockets() >= maxSockets) return Promise.reject(errno('ENFILE'));
    if (dead) return new Promise(() => {}); // no power: nothing goes out
    if (!inRange() || !joined()) return Promise.reject(errno('EHOSTUNREACH'));
    if (blackhole) return unansweredConnect();
    const socket = net.connect({ host: loopback ? '127.0.0.1' : host, port });
    const sid = nextSid++;
    const s = { socket, chunks: [], eof: false, connected: false, stalled: 0 };
    socks.set(sid, s);
    postSockets();
    attach(s, socket);
    return new Promise((resolve) => {
      const entry = {
        abandon() {
          pending.delete(entry);
          socks.delete(sid);
          socket.destroy();
          postSockets();
        },
      };
      pending.add(entry);
      const done = () => {
        pending.delete(entry);
        resolve(sid);
      };
      socket.once('connect', () => {
        s.connected = true;
        done();
      });
      socket.once('error', done);
    });
  }

  /**
   * A SYN nobody answers: the socket exists (it counts against the limit) and never becomes
   * writable; lwIP would give up after its SYN retransmissions with ETIMEDOUT. The firmware's own
   * connect timeout (timing.timeout_ms) abandons it long before.
   */
  function unansweredConnect() {
    unanswered++;
    postSockets();
    return new Promise((_, reject) => {
      const release = () => {
        clearTimeout(timer);
        pending.delete(entry);
        unanswered--;
        postSockets();
        reject(errno('ETIMEDOUT'));
      };
      const timer = setTimeout(release, SYN_GIVE_UP_MS);
      const entry = { abandon: release };
      pending.add(entry);
    });
  }

  /** The stream the board reads and writes: the TCP socket, or after a handshake its TLS socket. */
  function attach(s, socket) {
    socket.on('data', (d) => {
      if (!link()) return; // nothing reaches a board without a path to it
      s.chunks.push(d);
      wake(s);
    });
    const ended = () => {
      s.eof = true;
      wake(s);
    };
    socket.on('end', ended);
    socket.on('close', ended);
    socket.on('error', (e) => {
      s.error = e;
      wake(s);
    });
  }

  /** A CA as the firmware handed it to load_verify_locations (DER, or PEM), as PEM for Node. */
  function caPem(hex) {
    return new X509Certificate(Buffer.from(hex, 'hex')).toString();
  }

  const TLS_HANDSHAKE_MAX_MS = 10_000;

  /**
   * What mbedtls_x509_crt_verify_info says for Node's verification error: MicroPython raises it as
   * ValueError('\n<text>\n') (extmod/modtls_mbedtls.c); other handshake failures stay OSErrors.
   */
  const X509_VERIFY = {
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'The certificate is not correctly signed by the trusted CA',
    UNABLE_TO_GET_ISSUER_CERT: 'The certificate is not correctly signed by the trusted CA',
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'The certificate is not correctly signed by the trusted CA',
    SELF_SIGNED_CERT_IN_CHAIN: 'The certificate is not correctly signed by the trusted CA',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'The certificate is not correctly signed by the trusted CA',
    CERT_SIGNATURE_FAILURE: 'The certificate is not correctly signed by the trusted CA',
    ERR_TLS_CERT_ALTNAME_INVALID: 'The certificate Common Name (CN) does not match with the expected CN',
    CERT_HAS_EXPIRED: 'The certificate validity has expired',
    CERT_NOT_YET_VALID: 'The certificate validity starts in the future',
  };

  /**
   * The real handshake for the tls shim: Node's TLS client over the board's own TCP connection, with
   * exactly the CA (none = no trusted root at all, as mbedTLS) and host name the firmware passed.
   * CERT_REQUIRED (2) verifies the chain and the host name; CERT_NONE (0) and CERT_OPTIONAL (1) go on.
   */
  function tlsStart(sid, caHex, hostname, verifyMode) {
    const s = socks.get(sid);
    if (!s) return Promise.reject(new Error('ENOTCONN'));
    const event = { type: 'tls', ca: caHex ?? null, hostname, verifyMode, ok: false, error: null };
    const raw = s.socket;
    for (const ev of ['data', 'end', 'close', 'error']) raw.removeAllListeners(ev);
    raw.on('error', () => {}); // reported through the TLS socket
    return new Promise((resolve, reject) => {
      const fail = (e) => {
        clearTimeout(timer);
        event.error = `${e.code ?? 'ERR'}: ${e.message}`;
        post(event);
        t.destroy();
        const x509 = X509_VERIFY[e.code];
        reject(new Error(x509 ? `x509: ${x509}` : `TLS handshake failed: ${event.error}`));
      };
      const t = tls.connect({
        socket: raw,
        ca: caHex ? [caPem(caHex)] : [],
        host: hostname,
        servername: net.isIP(hostname) ? undefined : hostname,
        rejectUnauthorized: verifyMode === 2,
      });
      const timer = setTimeout(() => fail(new Error('handshake timed out')), TLS_HANDSHAKE_MAX_MS);
      t.once('error', fail);
      t.once('secureConnect', () => {
        clearTimeout(timer);
        t.removeListener('error', fail);
        event.ok = true;
        event.authorized = t.authorized;
        event.peer = t.getPeerCertificate()?.subject?.CN ?? null;
        event.protocol = t.getProtocol();
        post(event);
        s.socket = t;
        attach(s, t);
        resolve();
      });
    });
  }

  return {
    openSockets,
    postSockets,
    /** The access point is back: what was closed while it was away now reaches the peer. */
    radioBack() {
      if (link()) for (const s of orphans.splice(0)) s.destroy();
    },
    /** The broker becomes unreachable (on: false) or reachable again, Wi-Fi untouched. */
    setReachable(on) {
      blackhole = !on;
      this.radioBack();
    },
    /**
     * The power is cut: nothing more leaves or arrives, and no FIN or RST is sent (a board without
     * power says nothing). Resolves once the peers have closed every connection (a broker does so
     * after 1.5x the keepalive), so the worker can go without its sockets saying goodbye.
     */
    powerCut() {
      dead = true;
      const open = [...[...socks.values()].map((s) => s.socket), ...orphans].filter((s) => !s.destroyed);
      return Promise.all(open.map((s) => new Promise((resolve) => s.once('close', resolve))));
    },
    destroyAll() {
      for (const s of socks.values()) s.socket.destroy();
      for (const s of orphans.splice(0)) s.destroy();
      socks.clear();
    },
    jsboard: {
      net_connect: netConnect,
      /** The firmware stopped waiting for its (only) connect in progress. */
      net_connect_abandoned: () => pending.values().next().value?.abandon(),
      tls_check_ca: (hex) => {
        caPem(hex); // throws on anything that is not one certificate
      },
      tls_start: tlsStart,
      net_read: (sid, n) => {
        const s = socks.get(sid);
        if (!s) return Promise.reject(errno('EBADF'));
        return new Promise((resolve, reject) => {
          s.waiter = { n, resolve, reject };
          wake(s);
        });
      },
      // lwip_write on a non-blocking socket: what fits in the send buffer is taken (a partial write),
      // null when nothing fits (EAGAIN), -errno on an error (a JS throw would not reach Python intact).
      net_write: (sid, hex) => {
        const s = socks.get(sid);
        if (!s) return -ERRNO.EBADF;
        if (s.error) return -lwipErrno(s.error.code);
        if (!s.connected) return null;
        const buf = Buffer.from(hex, 'hex');
        if (!link()) {
          // No path (radio off, broker unreachable): bytes fill the send buffer and never leave.
          const n = Math.min(buf.length, SND_BUF - s.stalled);
          s.stalled += n;
          return n > 0 ? n : null;
        }
        const n = Math.min(buf.length, SND_BUF - s.socket.writableLength);
        if (n <= 0) return null;
        s.socket.write(n < buf.length ? buf.subarray(0, n) : buf);
        return n;
      },
      /** Resolves when a write could take bytes again (POLLOUT), rejects on a socket error. */
      net_writable: (sid) => {
        const s = socks.get(sid);
        if (!s) return Promise.reject(errno('EBADF'));
        if (s.error) return Promise.reject(lwipError(s.error));
        // Without a path a write never leaves: the wait stalls and the firmware's timeout decides.
        if (!link()) return new Promise(() => {});
        if (s.socket.writableLength < SND_BUF) return Promise.resolve();
        return new Promise((resolve, reject) => {
          s.socket.once('drain', () => resolve());
          s.socket.once('error', (e) => reject(lwipError(e)));
        });
      },
      net_close: (sid) => {
        const s = socks.get(sid);
        if (!s) return;
        socks.delete(sid);
        postSockets();
        if (s.waiter) s.waiter.reject(errno('EBADF'));
        // Closing without a path sends nothing: the peer learns of it only later (or by keepalive).
        if (link()) s.socket.destroy();
        else orphans.push(s.socket);
      },
      open_sockets: openSockets,
    },
  };
}
