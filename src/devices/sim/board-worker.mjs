import dgram from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { loadMicroPython } from '@micropython/micropython-webassembly-pyscript';
import { ERRNO, MAX_SOCKETS } from './lwip.mjs';
import { createSerialRepl } from './serial-repl.mjs';
import { createTcp } from './tcp.mjs';

const {
  app,
  main,
  config,
  accessPoints,
  resetCause,
  uniqueId,
  firmwareDir,
  shimsDir,
  heapsize,
  mdnsPort,
  files,
  maxSockets,
  reach,
  jsGcMs,
  serial,
} = workerData;
const post = (m) => parentPort.postMessage(m);
const log = (text) => post({ type: 'line', t: Date.now(), text });

const pins = new Map();
const adc = new Map();
let dht = [24.1, 26.5];
let wifiInRange = true;
let wifiJoined = false;
// What the station reports once joined: the access point's signal (dBm) and the DHCP lease.
let station = { rssi: -58, ip: '192.168.4.23' };
let wdtTimeoutMs = 0;
let lastFeed = 0;
let wdtFired = false;
let wdtTimer;
let capture = null;
// UDP sockets of the socket shim: every one is bound to 127.0.0.1 (whatever the firmware asked);
// the mDNS group 224.0.0.251:5353 is the test's loopback responder on mdnsPort. Never multicast.
const udps = new Map();
let nextUdp = 1;
const MDNS_GROUP = '224.0.0.251';
const UDP_QUEUE_MAX = 16;
const tcp = createTcp({
  post,
  inRange: () => wifiInRange,
  joined: () => wifiJoined,
  maxSockets: maxSockets ?? MAX_SOCKETS,
  udpSockets: () => udps.size,
  reach,
});
const openSockets = tcp.openSockets;
const postSockets = tcp.postSockets;

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
  wifi_rssi: () => station.rssi,
  wifi_ip: () => station.ip,
  dht_measure: () => dht,
  udp_open: () => {
    if (openSockets() >= (maxSockets ?? MAX_SOCKETS)) throw new Error(String(ERRNO.ENFILE));
    const id = nextUdp++;
    udps.set(id, { queue: [], opts: [], sock: undefined });
    post({ type: 'udp', what: 'open' });
    postSockets();
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
    postSockets();
    try {
      u?.sock?.close();
    } catch {}
  },
  ...tcp.jsboard,
  open_sockets: openSockets,
};

// A board on a serial line (serial.path) prints bytes to it, the REPL's prompts included.
let repl;
// what the harness itself asks the interpreter (qstr_info, mem_info), split into lines as without serial
const captureBytes = (b) => {
  const s = Buffer.from(b).toString('latin1');
  if (s === '\n' || !capture.length) capture.push(s === '\n' ? '' : s);
  else capture[capture.length - 1] += s;
};
const mp = await loadMicroPython({
  heapsize,
  linebuffer: !serial,
  stdout: serial
    ? (b) => (capture ? captureBytes(b) : repl.out(b))
    : (l) => (capture ? capture.push(l) : log(l)),
  stderr: (l) => log(`stderr: ${l}`),
});
mp.registerJsModule('jsboard', jsboard);
mp.FS.mkdirTree('/lib');
mp.FS.mkdirTree('/shims');
for (const f of readdirSync(shimsDir)) {
  if (f.endsWith('.py')) mp.FS.writeFile(`/shims/${f}`, readFileSync(join(shimsDir, f)));
}
// A board on a serial line starts with only MicroPython and `files`: the firmware is for the test to upload.
if (!serial) {
  for (const f of readdirSync(join(firmwareDir, 'lib'))) {
    if (f.endsWith('.py')) mp.FS.writeFile(`/lib/${f}`, readFileSync(join(firmwareDir, 'lib', f)));
  }
  mp.FS.writeFile('/boot.py', readFileSync(join(firmwareDir, 'boot.py')));
  mp.FS.writeFile('/main.py', readFileSync(main ?? join(firmwareDir, 'apps', app, 'main.py')));
  mp.FS.writeFile('/config.json', JSON.stringify(config));
}
for (const [name, content] of Object.entries(files ?? {})) {
  if (name.includes('/')) mp.FS.mkdirTree(`/${name.slice(0, name.lastIndexOf('/'))}`);
  mp.FS.writeFile(`/${name}`, content);
}
// The shims stand in for C modules that cost no heap on a real board: load them before the baseline.
// The socket shim only for boards that look for the broker over mDNS: loading it moves the
// interpreter's qstr pool boundary, which shifts every other board's heap figure by ~1 KB.
const broker = config?.broker;
const udpShim =
  serial !== undefined ||
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
// A board that runs for long (the sim) collects the JS side now and then: Python objects held only
// by JS proxies are freed when the proxies are finalized, and until then they fill the 100 KB heap,
// which a real board (no JS side) would not. Off in the tests, which measure without it.
if (jsGcMs) setInterval(jsGc, jsGcMs);
const heap = async () => {
  // Garbage can span both sides (a Python JsProxy holding a JS promise holding a PyProxy), so
  // collect alternately until neither side has anything left to give back.
  for (let i = 0; i < 4; i++) {
    mp.runPython('import gc\ngc.collect()');
    jsGc();
    await new Promise((r) => setTimeout(r, 20));
  }
  const used = evaluate('import gc\n_harness_result = None\ngc.collect()', 'gc.mem_alloc()');
  return { used, raw: used, slack: 0, ...qstrSlack(used) };
};
/**
 * The interned-string (qstr) pools grow by doubling: a pool allocated just before or just after the
 * baseline moves a board's figure by 1-2 KB though the firmware's strings are the same. The figure
 * therefore counts the entries and characters in use (7 bytes an entry on the ESP32 and here: 4 for
 * the pointer, 2 of hash, 1 of length) and leaves out the part of the pools not filled yet.
 */
function qstrSlack(raw) {
  capture = [];
  mp.runPython('import micropython\nmicropython.qstr_info()');
  const out = capture.join('\n');
  capture = null;
  const r = /n_pool=(\d+), n_qstr=(\d+), n_str_data_bytes=(\d+), n_total_bytes=(\d+)/.exec(out);
  if (!r) throw new Error(`no qstr_info: ${out}`);
  const [nPool, nQstr, strBytes, total] = r.slice(1).map(Number);
  // pool headers (5 words each) and block rounding stay counted: the slack is never overstated
  const slack = Math.max(0, total - strBytes - nQstr * 7 - nPool * 36);
  return { used: raw - slack, slack };
}
const baseline = await heap();
const baselineHeap = baseline.used;

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
      case 'station':
        station = { ...station, ...m.station };
        break;
      case 'wifi':
        wifiInRange = m.on;
        if (!m.on) wifiJoined = false;
        else tcp.radioBack();
        break;
      case 'reach':
        tcp.setReachable(m.on);
        break;
      case 'powerCut':
        // No more code runs, and no socket says goodbye: tell when the peers have given up on them.
        tcp.powerCut().then(() => post({ type: 'cold' }));
        clearInterval(wdtTimer);
        try {
          mp.runPython('import _harness\n_harness.stop()');
        } catch {}
        break;
      case 'heap': {
        const h = await heap();
        value = h;
        break;
      }
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
      case 'attach':
        repl.attach(m.path, { noise: m.noise });
        break;
      case 'detach':
        repl.detach();
        break;
      case 'file':
        try {
          value = Buffer.from(mp.FS.readFile(m.path)).toString('hex');
        } catch {
          value = null;
        }
        break;
      case 'stop':
        repl?.detach();
        try {
          mp.runPython('import _harness\n_harness.stop()');
        } catch {}
        clearInterval(wdtTimer);
        tcp.destroyAll();
        for (const u of udps.values()) {
          try {
            u.sock?.close();
          } catch {}
        }
        udps.clear();
        break;
    }
  } catch (e) {
    error = String(e?.message ?? e);
  }
  if (m.id !== undefined) post({ type: 'reply', id: m.id, value, error });
});

post({ type: 'booted', baselineHeap, baselineRaw: baseline.raw });
if (serial) {
  repl = createSerialRepl({
    mp,
    log,
    rawPaste: serial.rawPaste,
    chatterMs: serial.chatterMs,
    deafMs: serial.deafMs,
    stopProgram: () => {
      try {
        mp.runPython('import _harness\n_harness.stop()');
      } catch {}
      tcp.destroyAll();
    },
  });
  repl.attach(serial.path, { noise: serial.noise });
} else {
  // As on the board: boot.py, then main.py (whose asyncio.run returns at once here).
  try {
    mp.runPython('exec(open("/boot.py").read())\nimport main');
  } catch (e) {
    log(`harness: main.py raised ${e?.message ?? e}`);
  }
}
