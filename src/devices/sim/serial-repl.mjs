// A simulated board's UART: the interpreter's own REPL (pyexec's event-driven friendly and raw REPL,
// fed one byte at a time through replProcessChar) behind a serial line, a pseudo-terminal here.
// What this adds around the interpreter is what the ESP32's main.c does around pyexec: at boot and
// at a soft reset (Ctrl-D) run boot.py then main.py in the friendly REPL, print "MPY: soft reboot";
// Ctrl-C while main.py runs raises KeyboardInterrupt and drops to the REPL.
//
// Raw-paste mode: this build's raw-paste reader (do_reader_stdin) reads stdin synchronously and the
// WebAssembly port has no stdin to block on, so Ctrl-E A Ctrl-A would hang the interpreter. The
// board therefore never hands Ctrl-E to it in the raw REPL: by default it answers as a firmware
// without raw-paste (before 1.13): the line is reset and the raw REPL banner printed again. With
// `rawPaste` the board speaks raw-paste's framing itself (MicroPython's documented protocol: "R\x01",
// window size, a Ctrl-A per window consumed, Ctrl-D at the end) and runs the collected code through
// the interpreter's raw REPL.
import fs from 'node:fs';
import tty from 'node:tty';

const WINDOW = 128;

/**
 * mp: the interpreter (loadMicroPython with linebuffer false and stdout routed to `out`);
 * stopProgram(): ends main.py's tasks and sockets; log(line): the board's output as lines.
 */
export function createSerialRepl({ mp, stopProgram, log, rawPaste = false, chatterMs = 0, deafMs = 0 }) {
  let fdIn;
  let input;
  let output;
  let raw = false;
  let running = false;
  let pending = [];
  let line = [];
  // raw-paste state (only with rawPaste): null, or the code collected so far and the receive buffer
  let paste = null;
  let swallowOk = 0;
  let prevE = 0;
  let chatter;
  let ticks = 0;
  // deafMs: input is lost for this long from the first byte (a board that the port's opening reset)
  let deafUntil;

  const flush = () => {
    if (!pending.length) return;
    const buf = Buffer.from(pending);
    pending = [];
    try {
      output?.write(buf);
    } catch {}
  };
  /** Every byte the interpreter prints: to the line, and to the test's log line by line. */
  const out = (bytes) => {
    for (const b of bytes) {
      if (swallowOk > 0) {
        swallowOk--;
        continue;
      }
      pending.push(b);
      if (b === 10) {
        log(Buffer.from(line).toString('latin1').replace(/\r$/, ''));
        line = [];
      } else line.push(b);
    }
    if (pending.length === bytes.length) setImmediate(flush);
  };
  const print = (s) => out(Buffer.from(s, 'latin1'));

  const runFile = (name) => {
    if (!exists(name)) return false;
    try {
      mp.runPython(`exec(open("/${name}").read(), {"__name__": "__main__"})`);
    } catch (e) {
      print(
        `Traceback (most recent call last):\r\n  File "${name}"\r\n${String(e?.message ?? e)
          .trim()
          .replace(/\n/g, '\r\n')}\r\n`,
      );
      return false;
    }
    return true;
  };
  const exists = (name) => {
    try {
      mp.FS.stat(`/${name}`);
      return true;
    } catch {
      return false;
    }
  };
  /** As the ESP32 port at boot and after a soft reset: boot.py, then main.py in the friendly REPL. */
  const boot = () => {
    if (!raw) {
      runFile('boot.py');
      // asyncio.run returns at once here (the tasks run on the JS event loop): main.py "runs" until Ctrl-C
      if (runFile('main.py')) {
        running = true;
        return;
      }
    }
    mp.replInit();
  };
  const softReset = () => {
    stopProgram();
    // A soft reset starts a fresh Python heap: forget every module the programs imported.
    mp.runPython(
      'import sys, gc\nfor _m in [m for m in sys.modules if m not in _boot_modules]:\n    del sys.modules[_m]\ngc.collect()',
    );
    print('MPY: soft reboot\r\n');
    boot();
  };
  const interrupt = () => {
    stopProgram();
    running = false;
    print('Traceback (most recent call last):\r\n  File "main.py"\r\nKeyboardInterrupt: \r\n');
    mp.replInit();
  };

  const feed = (c) => {
    const r = mp.replProcessChar(c);
    if (r) softReset();
  };
  const onByte = (c) => {
    if (running) {
      if (c === 3) interrupt();
      return; // what is typed while main.py runs waits in a buffer nobody reads
    }
    if (paste) return onPasteByte(c);
    if (raw && c === 5) {
      prevE = 1;
      return;
    }
    if (prevE === 1 && c === 0x41) {
      prevE = 2;
      if (!rawPaste) feed(c);
      return;
    }
    if (prevE === 2 && c === 1 && rawPaste) {
      prevE = 0;
      print(`R\x01${String.fromCharCode(WINDOW & 0xff, WINDOW >> 8)}\x01`);
      // the window size grants one window and the \x01 another, as in pyexec.c: the 256-byte buffer
      paste = { code: [], ring: [], received: 0, overflow: 0, drain: undefined };
      return;
    }
    prevE = 0;
    if (c === 1) raw = true;
    else if (c === 2 && raw) raw = false;
    feed(c);
  };
  // Raw-paste input goes through a 256-byte receive buffer that the board empties a little later (it
  // compiles as it reads): a host that sends more than the windows granted overruns it, and the bytes
  // that do not fit are lost, as on a UART.
  const RX_BUFFER = 2 * WINDOW;
  const onPasteByte = (c) => {
    if (paste.ring.length >= RX_BUFFER) {
      paste.overflow++;
      return;
    }
    paste.ring.push(c);
    paste.drain ??= setTimeout(drainPaste, 1);
  };
  const drainPaste = () => {
    const ring = paste.ring;
    paste.ring = [];
    paste.drain = undefined;
    for (const [i, c] of ring.entries()) {
      if (c === 4 || c === 3) {
        endPaste(c);
        for (const rest of ring.slice(i + 1)) onByte(rest);
        return;
      }
      paste.code.push(c);
      if (++paste.received % WINDOW === 0) print('\x01');
    }
  };
  const endPaste = (c) => {
    const code = paste.code;
    paste = null;
    print('\x04');
    if (c === 3) {
      print('\x04Traceback (most recent call last):\r\nKeyboardInterrupt: \r\n\x04>');
      return;
    }
    // The interpreter's raw REPL runs it; its "OK" (the plain raw REPL's receipt) is not raw-paste's.
    swallowOk = 2;
    for (const b of code) mp.replProcessChar(b);
    feed(4);
  };

  return {
    out,
    /** Opens the board's end of the line (a pty path) and boots as after power-on. */
    attach(path, { noise } = {}) {
      fdIn = fs.openSync(path, 'r+');
      const fdOut = fs.openSync(path, 'r+');
      input = new tty.ReadStream(fdIn);
      output = new tty.WriteStream(fdOut);
      output.on('error', () => {});
      input.on('error', () => {});
      deafUntil = undefined;
      input.on('data', (d) => {
        deafUntil ??= Date.now() + deafMs;
        if (Date.now() < deafUntil) return;
        for (const c of d) onByte(c);
      });
      mp.runPython('import sys\n_boot_modules = set(sys.modules)');
      if (noise) out(Buffer.from(noise));
      boot();
      if (chatterMs) {
        // Like a machine.Timer callback that prints: output at any time, whatever the REPL is doing.
        chatter = setInterval(() => print(`tick ${++ticks}\r\n`), chatterMs);
      }
    },
    /** The line goes (USB unplugged): the board keeps its filesystem and its state. */
    detach() {
      clearInterval(chatter);
      input?.destroy();
      output?.destroy();
      input = output = undefined;
    },
  };
}
