// One simulated ESP32: the real MicroPython 1.27 interpreter (WebAssembly) running the firmware
// from firmware/ unchanged, with shims for network/machine/dht and asyncio streams bridged to
// Node sockets. Each board runs in its own worker thread (board-worker.mjs). Whoever holds it (a
// firmware test, `mothership sim`) drives the world around it: Wi-Fi, pins, the DHT22, the ADC.
import { EventEmitter } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const here = dirname(fileURLToPath(import.meta.url));
/** The package's firmware/: three levels up from src/devices/sim (tsx, vitest) and dist/devices/sim. */
export const FIRMWARE_DIR = join(here, '..', '..', '..', 'firmware');

/** What an ESP32-WROOM-32 running MicroPython leaves to Python code. */
export const ESP32_HEAP = 100 * 1024;

export interface BoardOptions {
  app: 'conversation' | 'led_remote' | 'mothership' | 'dht';
  config: Record<string, unknown>;
  /** Networks in range: ssid -> password. */
  accessPoints?: Record<string, string>;
  /** machine.reset_cause() value: 1 power-on, 3 watchdog... */
  resetCause?: number;
  uniqueId?: string;
  /** Loopback port of the test's DNS-SD responder, which 224.0.0.251:5353 maps to; none: no answer. */
  mdnsPort?: number;
  /** More files for the board's filesystem, by path relative to / (e.g. a CA: {'ca.crt': pem}). */
  files?: Record<string, string | Uint8Array>;
  /** A main.py of the test's own (a path) instead of the app's: to probe the shims themselves. */
  main?: string;
  /** lwIP's socket limit (TCP and UDP together); past it a new socket fails with ENFILE. Default 16. */
  maxSockets?: number;
  /** Which brokers the board may reach: 'loopback' (the tests' rule, default) or 'any' host. */
  reach?: 'loopback' | 'any';
  /** Keep only the newest this many lines in `lines` (default: all, as the tests read them). */
  maxLines?: number;
  /**
   * Run the worker's JS garbage collector this often (ms): proxies the JS side still holds keep
   * Python objects alive, and a board that runs for long would outgrow the ESP32's heap for that
   * alone. Default never (the tests' boards live briefly and measure the heap themselves).
   */
  jsGcMs?: number;
  /**
   * The board on a serial line instead: its REPL on `path` (a pseudo-terminal), with only MicroPython
   * and `files` on it (no firmware; app, main and config are then unused). See serial-repl.mjs.
   */
  serial?: SerialOptions;
}

export interface SerialOptions {
  path: string;
  /** Speak raw-paste mode (default: answer as a firmware without it). */
  rawPaste?: boolean;
  /** Print `tick N` this often (ms) whatever the REPL does, as a timer callback would. */
  chatterMs?: number;
  /** Input lost for this long (ms) from the first byte: a board the opening of its port reset. */
  deafMs?: number;
  /** Bytes printed at power-on before anything else (a boot ROM's garbage at the wrong baud rate). */
  noise?: string;
}

export interface Line {
  t: number;
  text: string;
}

type Msg =
  | { type: 'line'; t: number; text: string }
  | { type: 'pin'; id: number; v: number }
  | { type: 'wdt' }
  | { type: 'reset' }
  | { type: 'join'; ssid: string }
  | { type: 'udp'; what: 'open' | 'bind' | 'send' | 'close'; host?: string; port?: number }
  | ({ type: 'tls' } & TlsHandshake)
  | { type: 'sockets'; open: number }
  | { type: 'booted'; baselineHeap: number; baselineRaw: number }
  | { type: 'cold' }
  | { type: 'reply'; id: number; value: unknown; error: string | null };

/** One TLS handshake of the tls/ssl shim: what the firmware passed, and what Node's TLS made of it. */
export interface TlsHandshake {
  /** The bytes the firmware gave load_verify_locations, hex; null: none. */
  ca: string | null;
  /** server_hostname given to wrap_socket. */
  hostname: string;
  /** 0 CERT_NONE, 1 CERT_OPTIONAL, 2 CERT_REQUIRED. */
  verifyMode: number;
  ok: boolean;
  /** Node's error (code: message) when the handshake failed. */
  error: string | null;
  authorized?: boolean;
  /** CN of the broker's certificate. */
  peer?: string | null;
  protocol?: string | null;
}

/**
 * Events: 'line' (Line), 'pin' (id, level) for a level the firmware set, 'wdt' when the watchdog
 * fired, 'reset' when the firmware called machine.reset(), 'exit' (error or null) if the worker died.
 */
export class Board extends EventEmitter {
  readonly lines: Line[] = [];
  /** Output pin levels as last set by the firmware (and input levels set by the test). */
  readonly pins = new Map<number, number>();
  wdtFired = false;
  resets = 0;
  wifiJoins = 0;
  /** UDP socket events of the socket shim (mDNS queries sent, sockets opened and closed). */
  readonly udp: { what: string; host?: string; port?: number; t: number }[] = [];
  baselineHeap = 0;
  baselineRaw = 0;
  /** Sockets the board holds open now (closed only by wait_closed(), as on MicroPython), and the most ever. */
  sockets = 0;
  maxOpenSockets = 0;
  /** Every TLS handshake the board attempted, in order. */
  readonly tls: (TlsHandshake & { t: number })[] = [];
  private worker: Worker;
  private replies = new Map<number, (m: Extract<Msg, { type: 'reply' }>) => void>();
  private nextId = 1;
  private stopped = false;
  private onCold: (() => void) | undefined;
  /** The worker has ended (crashed, or terminated). */
  private gone = false;

  private constructor(readonly opts: BoardOptions) {
    super();
    this.worker = new Worker(new URL('./board-worker.mjs', import.meta.url), {
      workerData: {
        ...opts,
        reach: opts.reach ?? 'loopback',
        firmwareDir: FIRMWARE_DIR,
        shimsDir: join(here, 'shims'),
        heapsize: ESP32_HEAP,
      },
    });
  }

  static async start(opts: BoardOptions): Promise<Board> {
    const b = new Board(opts);
    await new Promise<void>((resolve, reject) => {
      b.worker.once('error', reject);
      b.worker.on('message', (m: Msg) => {
        if (m.type === 'booted') {
          b.baselineHeap = m.baselineHeap;
          b.baselineRaw = m.baselineRaw;
          resolve();
        } else b.onMessage(m);
      });
    });
    b.worker.on('error', (e) => b.emit('exit', e));
    b.worker.on('exit', () => {
      b.gone = true;
      if (!b.stopped) b.emit('exit', null);
    });
    return b;
  }

  private onMessage(m: Msg): void {
    switch (m.type) {
      case 'line': {
        const line = { t: m.t, text: m.text };
        this.keep(this.lines, line);
        if (process.env.FIRMWARE_ECHO) console.log(`[${this.opts.app}] ${m.text}`);
        this.emit('line', line);
        break;
      }
      case 'pin':
        this.pins.set(m.id, m.v);
        this.emit('pin', m.id, m.v);
        break;
      case 'wdt':
        this.wdtFired = true;
        this.emit('wdt');
        break;
      case 'reset':
        this.resets++;
        this.emit('reset');
        break;
      case 'join':
        this.wifiJoins++;
        break;
      case 'sockets':
        this.sockets = m.open;
        this.maxOpenSockets = Math.max(this.maxOpenSockets, m.open);
        break;
      case 'udp':
        this.keep(this.udp, { what: m.what, host: m.host, port: m.port, t: Date.now() });
        break;
      case 'tls': {
        const { type: _, ...h } = m;
        this.keep(this.tls, { ...h, t: Date.now() });
        break;
      }
      case 'cold':
        this.onCold?.();
        break;
      case 'reply':
        this.replies.get(m.id)?.(m);
        this.replies.delete(m.id);
        break;
    }
  }

  /** Appends, dropping the oldest past maxLines: a board that runs for days holds a bounded log. */
  private keep<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > (this.opts.maxLines ?? Number.POSITIVE_INFINITY)) list.shift();
  }

  private send(cmd: Record<string, unknown>): void {
    this.worker.postMessage(cmd);
  }

  private ask(cmd: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`board did not answer ${cmd.cmd}`)), 5000);
      this.replies.set(id, (m) => {
        clearTimeout(timer);
        if (m.error) reject(new Error(m.error));
        else resolve(m.value);
      });
      this.worker.postMessage({ ...cmd, id });
    });
  }

  setPin(id: number, v: number): void {
    this.pins.set(id, v);
    this.send({ cmd: 'pin', id, v });
  }

  setAdc(id: number, v: number): void {
    this.send({ cmd: 'adc', id, v });
  }

  /** null = sensor detached: measure() raises OSError(ETIMEDOUT) like the real driver. */
  setDht(v: [number, number] | null): void {
    this.send({ cmd: 'dht', v });
  }

  /** The access point disappears: the station drops and open sockets stall without FIN or RST. */
  wifiOff(): void {
    this.send({ cmd: 'wifi', on: false });
  }

  wifiOn(): void {
    this.send({ cmd: 'wifi', on: true });
  }

  /**
   * The broker becomes unreachable (false) or reachable again while Wi-Fi stays up: nothing gets
   * through either way on open connections, and new connects go unanswered (a blackhole).
   */
  setReachable(on: boolean): void {
    this.send({ cmd: 'reach', on });
  }

  /** What the station reports while joined: signal in dBm (default -58) and IP address (192.168.4.23). */
  setStation(station: { rssi?: number; ip?: string }): void {
    this.send({ cmd: 'station', station });
  }

  /**
   * Heap in use, in bytes: gc.mem_alloc() after gc.collect() (`raw`), less the part of the qstr
   * pools allocated but not filled yet (`slack`, see board-worker.mjs). Compare with baselineHeap
   * and baselineRaw, the same figures before main.py was imported.
   */
  async heapUse(): Promise<{ used: number; raw: number; slack: number }> {
    return (await this.ask({ cmd: 'heap' })) as { used: number; raw: number; slack: number };
  }

  /** heapUse().used */
  async heap(): Promise<number> {
    return (await this.heapUse()).used;
  }

  /** Size of the GC heap; grows past ESP32_HEAP only if the program ever needed more. */
  async heapTotal(): Promise<number> {
    return (await this.ask({ cmd: 'heapTotal' })) as number;
  }

  /** A Python expression evaluated after `import main` and `stmts` (e.g. "main.client.dropped"). */
  eval(expr: string, stmts = ''): Promise<unknown> {
    return this.ask({ cmd: 'eval', expr, stmts });
  }

  /** Serial boards: plug the board's UART into another line (a new pseudo-terminal), as after power-on. */
  async attach(path: string): Promise<void> {
    await this.ask({ cmd: 'attach', path });
  }

  /** Serial boards: unplug the line; the board keeps its files. */
  async detach(): Promise<void> {
    await this.ask({ cmd: 'detach' });
  }

  /** A file of the board's filesystem, or null if there is none. */
  async readFile(path: string): Promise<Buffer | null> {
    const hex = (await this.ask({ cmd: 'file', path })) as string | null;
    return hex === null ? null : Buffer.from(hex, 'hex');
  }

  since(t: number): Line[] {
    return this.lines.filter((l) => l.t >= t);
  }

  async waitFor(re: RegExp, timeoutMs: number, after = 0): Promise<Line> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find((l) => l.t >= after && re.test(l.text));
      if (hit) return hit;
      if (Date.now() > deadline) {
        const tail = this.lines.slice(-15).map((l) => l.text);
        throw new Error(`board did not print ${re} within ${timeoutMs} ms; last lines:\n${tail.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * The power is cut: the firmware stops where it is, and its connections send no FIN or RST (a
   * board without power says nothing), so a broker notices only by its keepalive, as with a real
   * board. Resolves once the peers have closed them, or after `maxMs`; then the worker is gone.
   */
  async powerCut(maxMs: number): Promise<void> {
    if (this.stopped || this.gone) return;
    this.stopped = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        this.onCold = resolve;
        this.send({ cmd: 'powerCut' });
      }),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, maxMs);
      }),
    ]);
    clearTimeout(timer);
    await this.worker.terminate();
  }

  /** Ends the worker at once, whatever it is doing (the sim exiting while a board is powered off). */
  async kill(): Promise<void> {
    this.stopped = true;
    await this.worker.terminate();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.ask({ cmd: 'stop' }).catch(() => {});
    await this.worker.terminate();
  }
}
