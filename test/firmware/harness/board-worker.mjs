// Runs one board's MicroPython interpreter in its own worker thread: the WebAssembly port keeps
// its state on globalThis, so two boards in one thread would corrupt each other.
// Protocol with board.ts: it posts {type:'cmd', ...}; we post lines, pin changes and replies.
import { X509Certificate } from 'node:crypto';
import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { loadMicroPython } from '@micropython/micropython-webassembly-pyscript';

const { app, config, accessPoints, resetCause, uniqueId, firmwareDir, shimsDir, heapsize, mdnsPort, files } =
  workerData;
const post = (m) => parentPort.postMessage(m);
const log = (text) => post({ type: 'line', t: Date.now(), text });

const pins = new Map();
const adc = new Map();
let dht = [24.1, 26.5];
let wifiInRange = true;
let wifiJoined = false;
let wdtTimeoutMs = 0;
let lastFeed = 0;
let wdtFired = false;
let wdtTimer;
const socks = new Map();
const orphans = [];
let nextSid = 1;
let capture = null;
// UDP sockets of the socket shim: every one is bound to 127.0.0.1 (whatever the firmware asked);
// the mDNS group 224.0.0.251:5353 is the test's loopback responder on mdnsPort. Never multicast.
const udps = new Map();
let nextUdp = 1;
const MDNS_GROUP = '224.0.0.251';
const UDP_QUEUE_MAX = 16;

function udpTarget(host, port) {
  if (host === MDNS_GROUP && port === 5353) return mdnsPort ? ['127.0.0.1', mdnsPort] : null;
  if (host === '127.0.0.1' || host === 'localhost') return ['127.0.0.1', port];
  throw new Error(`test boards only reach loopback, not ${host}`);
}

function udpSocket(id) {
  const u = udps.get(id);
  if (!u) throw new Error('EBADF');
  if (!u.sock) {
    u.sock = dgram.createSocket('udp4');
    u.sock.on('message', (data, rinfo) => {
      // Nothing reaches a board without Wi-Fi; a full receive queue drops, as a real stack does.
      if (!wifiInRange || !wifiJoined || u.queue.length >= UDP_QUEUE_MAX) return;
      u.queue.push(`${rinfo.address} ${rinfo.port} ${data.toString('hex')}`);
    });
    u.sock.on('error', () => {});
    u.sock.bind(0, '127.0.0.1');
  }
  return u;
}

function wake(s) {
  const w = s.waiter;
  if (!w || !wifiInRange) return;
  if (s.chunks.length) {
    const all = Buffer.concat(s.chunks);
    s.chunks = all.length > w.n ? [all.subarray(w.n)] : [];
    s.waiter = undefined;
    w.resolve(new Uint8Array(all.subarray(0, w.n)));
  } else if (s.eof || s.error) {
    s.waiter = undefined;
    if (s.error) w.reject(s.error);
    else w.resolve(new Uint8Array(0));
  }
}

function netConnect(host, port) {
  if (host !== '127.0.0.1' && host !== 'localhost') {
    return Promise.reject(new Error(`test boards only reach loopback, not ${host}`));
  }
  if (!wifiInRange || !wifiJoined) return Promise.reject(new Error('EHOSTUNREACH'));
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const sid = nextSid++;
    const s = { socket, chunks: [], eof: false };
    socket.once('connect', () => {
      socks.set(sid, s);
      resolve(sid);
    });
    socket.on('error', (e) => {
      if (!socks.has(sid)) reject(e);
    });
    attach(s, socket);
  });
}

/** The stream the board reads and writes: the TCP socket, or after a handshake its TLS socket. */
function attach(s, socket) {
  socket.on('data', (d) => {
    if (!wifiInRange) return; // nothing reaches a board without Wi-Fi
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
      reject(new Error(`TLS handshake failed: ${event.error}`));
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

const jsboard = {
  pin_get: (id) => pins.get(id) ?? (id === 0 ? 1 : 0),
  pin_set: (id, v) => {
    pins.set(id, v);
    post({ type: 'pin', id, v });
  },
  adc_read: (id) => adc.get(id) ?? 32768,
  wdt_start: (ms) => {
    wdtTimeoutMs = ms;
    lastFeed = Date.now();
    wdtTimer = setInterval(() => {
      if (!wdtFired && Date.now() - lastFeed > wdtTimeoutMs) {
        wdtFired = true;
        post({ type: 'wdt' });
        log('harness: WATCHDOG FIRED');
      }
    }, 100);
  },
  wdt_feed: () => {
    lastFeed = Date.now();
  },
  unique_id: () => uniqueId ?? '240ac4123456',
  reset_cause: () => resetCause ?? 1,
  reset: () => {
    post({ type: 'reset' });
    log('harness: machine.reset() called');
  },
  wifi_connect: (ssid, key) => {
    post({ type: 'join', ssid });
    if (wifiInRange && accessPoints?.[ssid] === key) {
      setTimeout(() => {
        if (wifiInRange) wifiJoined = true;
      }, 50);
    }
  },
  wifi_disconnect: () => {
    wifiJoined = false;
  },
  wifi_isconnected: () => wifiJoined && wifiInRange,
  dht_measure: () => dht,
  net_connect: netConnect,
  udp_open: () => {
    const id = nextUdp++;
    udps.set(id, { queue: [], opts: [], sock: undefined });
    post({ type: 'udp', what: 'open' });
    return id;
  },
  udp_opt: (id, level, opt, value) => {
    // Recorded only: IP_ADD_MEMBERSHIP must never reach the host's network stack.
    udps.get(id)?.opts.push([level, opt, value]);
  },
  udp_bind: (id, host, port) => {
    const u = udpSocket(id);
    u.bound = [host, port];
    post({ type: 'udp', what: 'bind', host, port });
  },
  udp_send: (id, hex, host, port) => {
    const u = udpSocket(id);
    if (!wifiInRange || !wifiJoined) throw new Error('EHOSTUNREACH');
    const to = udpTarget(host, port);
    post({ type: 'udp', what: 'send', host, port });
    if (to) u.sock.send(Buffer.from(hex, 'hex'), to[1], to[0]);
  },
  udp_recv: (id) => udps.get(id)?.queue.shift() ?? null,
  udp_close: (id) => {
    const u = udps.get(id);
    udps.delete(id);
    post({ type: 'udp', what: 'close' });
    try {
      u?.sock?.close();
    } catch {}
  },
  tls_check_ca: (hex) => {
    caPem(hex); // throws on anything that is not one certificate
  },
  tls_start: tlsStart,
  net_read: (sid, n) => {
    const s = socks.get(sid);
    if (!s) return Promise.resolve(new Uint8Array(0));
    return new Promise((resolve, reject) => {
      s.waiter = { n, resolve, reject };
      wake(s);
    });
  },
  net_write: (sid, hex) => {
    const s = socks.get(sid);
    // Without Wi-Fi the bytes go nowhere, as on a radio with no access point.
    if (s && wifiInRange && !s.socket.destroyed) s.socket.write(Buffer.from(hex, 'hex'));
  },
  net_drain: (sid) => {
    const s = socks.get(sid);
    if (!s) return Promise.reject(new Error('ENOTCONN'));
    if (s.error) return Promise.reject(s.error);
    // With the radio off a write never leaves: drain stalls and the firmware's timeout decides.
    if (!wifiInRange) return new Promise(() => {});
    if (!s.socket.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => s.socket.once('drain', () => resolve()));
  },
  net_close: (sid) => {
    const s = socks.get(sid);
    if (!s) return;
    socks.delete(sid);
    if (s.waiter) s.waiter.resolve(new Uint8Array(0));
    // Closing while the radio is off sends nothing: the peer learns of it only later.
    if (wifiInRange) s.socket.destroy();
    else orphans.push(s.socket);
  },
};

const mp = await loadMicroPython({
  heapsize,
  stdout: (l) => (capture ? capture.push(l) : log(l)),
  stderr: (l) => log(`stderr: ${l}`),
});
mp.registerJsModule('jsboard', jsboard);
mp.FS.mkdirTree('/lib');
mp.FS.mkdirTree('/shims');
for (const f of readdirSync(join(firmwareDir, 'lib'))) {
  if (f.endsWith('.py')) mp.FS.writeFile(`/lib/${f}`, readFileSync(join(firmwareDir, 'lib', f)));
}
for (const f of readdirSync(shimsDir)) {
  if (f.endsWith('.py')) mp.FS.writeFile(`/shims/${f}`, readFileSync(join(shimsDir, f)));
}
mp.FS.writeFile('/boot.py', readFileSync(join(firmwareDir, 'boot.py')));
mp.FS.writeFile('/main.py', readFileSync(join(firmwareDir, 'apps', app, 'main.py')));
mp.FS.writeFile('/config.json', JSON.stringify(config));
for (const [name, content] of Object.entries(files ?? {})) mp.FS.writeFile(`/${name}`, content);
// The shims stand in for C modules that cost no heap on a real board: load them before the baseline.
// The socket shim only for boards that look for the broker over mDNS: loading it moves the
// interpreter's qstr pool boundary, which shifts every other board's heap figure by ~1 KB.
const broker = config.broker;
const udpShim =
  mdnsPort !== undefined ||
  broker === 'mdns' ||
  (broker && typeof broker === 'object' && (!broker.host || broker.host === 'mdns'));
mp.runPython(
  `import sys, os\nos.chdir("/")\nsys.path.insert(0, "/shims")\nimport _harness, machine, network, dht${udpShim ? ', socket' : ''}`,
);
// runPython returns nothing useful: results travel through a global of __main__.
const evaluate = (stmts, expr) => {
  mp.runPython(`${stmts}\n_harness_result = ${expr}`);
  return mp.globals.get('_harness_result');
};
// The WebAssembly port keeps a Python object alive while JS holds a proxy of it (each awaited
// promise, each asyncio sleep) until JS's own GC finalizes the proxy. A real board has no JS side,
// so before measuring, let JS collect and run its finalizers, then collect on the Python side.
v8.setFlagsFromString('--expose-gc');
const jsGc = vm.runInNewContext('gc');
const heap = async () => {
  // Garbage can span both sides (a Python JsProxy holding a JS promise holding a PyProxy), so
  // collect alternately until neither side has anything left to give back.
  for (let i = 0; i < 4; i++) {
    mp.runPython('import gc\ngc.collect()');
    jsGc();
    await new Promise((r) => setTimeout(r, 20));
  }
  return evaluate('import gc\n_harness_result = None\ngc.collect()', 'gc.mem_alloc()');
};
const baselineHeap = await heap();

parentPort.on('message', async (m) => {
  let value = null;
  let error = null;
  try {
    switch (m.cmd) {
      case 'pin':
        pins.set(m.id, m.v);
        break;
      case 'adc':
        adc.set(m.id, m.v);
        break;
      case 'dht':
        dht = m.v;
        break;
      case 'wifi':
        wifiInRange = m.on;
        if (!m.on) wifiJoined = false;
        else for (const s of orphans.splice(0)) s.destroy();
        break;
      case 'heap':
        value = await heap();
        break;
      case 'heapTotal': {
        capture = [];
        mp.runPython('import micropython\nmicropython.mem_info()');
        const out = capture.join('\n');
        capture = null;
        const r = /GC: total: (\d+)/.exec(out);
        value = r ? Number(r[1]) : null;
        break;
      }
      case 'eval':
        value = evaluate(`import main\n${m.stmts ?? ''}`, m.expr);
        break;
      case 'stop':
        try {
          mp.runPython('import _harness\n_harness.stop()');
        } catch {}
        clearInterval(wdtTimer);
        for (const s of socks.values()) s.socket.destroy();
        for (const u of udps.values()) {
          try {
            u.sock?.close();
          } catch {}
        }
        udps.clear();
        for (const s of orphans) s.destroy();
        socks.clear();
        break;
    }
  } catch (e) {
    error = String(e?.message ?? e);
  }
  if (m.id !== undefined) post({ type: 'reply', id: m.id, value, error });
});

post({ type: 'booted', baselineHeap });
// As on the board: boot.py, then main.py (whose asyncio.run returns at once here).
try {
  mp.runPython('exec(open("/boot.py").read())\nimport main');
} catch (e) {
  log(`harness: main.py raised ${e?.message ?? e}`);
}
