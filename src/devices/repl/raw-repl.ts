/**
 * MicroPython's raw REPL over a serial line, the protocol mpremote speaks: Ctrl-C to stop the running
 * program, Ctrl-A for the raw REPL ("raw REPL; CTRL-B to exit\r\n>"), code ended by Ctrl-D, answered
 * "OK" + stdout + \x04 + stderr + \x04 + ">". Raw-paste mode (Ctrl-E A Ctrl-A, MicroPython 1.13+)
 * adds flow control: the board announces a window and sends Ctrl-A each time one is free again, so a
 * long command never overruns its UART buffer; a board without it is driven in plain raw mode, in
 * small pieces with a pause between them.
 */
import { ErrorCodes, MothershipError } from '../../errors.js';
import type { SerialLink } from '../serial/serial-link.js';

const RAW_BANNER = 'raw REPL; CTRL-B to exit\r\n>';
/** Plain raw mode: bytes per write, and the pause between writes (mpremote's figures). */
const PLAIN_CHUNK = 256;
const PLAIN_PAUSE_MS = 10;

export interface ExecResult {
  out: Buffer;
  err: string;
}

export interface RawReplOptions {
  /** Tries to get the raw REPL banner on a noisy or busy line before giving up (default 5). */
  attempts?: number;
  /** How long a command may take to run (default 10 s). */
  timeoutMs?: number;
  /** Try raw-paste mode (default true); off, or once the board refused it, plain raw mode. */
  rawPaste?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RawRepl {
  /** Whether raw-paste mode is used: undefined until the board has been asked. */
  rawPaste: boolean | undefined;
  private readonly attempts: number;
  private readonly timeoutMs: number;

  constructor(
    readonly link: SerialLink,
    opts: RawReplOptions = {},
  ) {
    this.attempts = opts.attempts ?? 5;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    if (opts.rawPaste === false) this.rawPaste = false;
  }

  /**
   * Stops the running program and enters the raw REPL. A line with noise on it (boot messages, a
   * program that prints) can hide or split the banner: each attempt interrupts again, drops what
   * came before and waits for the banner afresh.
   */
  async enter(): Promise<void> {
    for (let i = 0; i < this.attempts; i++) {
      // \r ends any half-typed line; two Ctrl-C stop a program and a pending input().
      await this.link.write('\r\x03\x03');
      await sleep(50 + 100 * i);
      this.link.take();
      await this.link.write('\r\x01');
      if (await this.link.readUntil(RAW_BANNER, 1000 + 500 * i)) return;
    }
    throw new MothershipError(
      ErrorCodes.RAW_REPL_FAILED,
      `no MicroPython raw REPL on ${this.link.path} after ${this.attempts} tries: is MicroPython on the board ` +
        '(flash it with --micropython FILE.bin), and is no other program (a serial monitor) using the port?',
    );
  }

  /** Runs code; its stdout and the exception's traceback (empty when none). */
  async exec(code: string): Promise<ExecResult> {
    const body = Buffer.from(code, 'utf8');
    if (this.rawPaste !== false && (await this.tryRawPaste(body))) {
      // raw-paste: the board acknowledges the end with \x04, then runs the code
      return this.result();
    }
    for (let off = 0; off < body.length; off += PLAIN_CHUNK) {
      await this.link.write(body.subarray(off, off + PLAIN_CHUNK));
      if (off + PLAIN_CHUNK < body.length) await sleep(PLAIN_PAUSE_MS);
    }
    await this.link.write('\x04');
    if (!(await this.link.readUntil('OK', this.timeoutMs))) this.lost('did not take the command');
    return this.result();
  }

  /** exec, raising the board's traceback as an error. */
  async run(code: string): Promise<Buffer> {
    const r = await this.exec(code);
    if (r.err) throw new MothershipError(ErrorCodes.BOARD_EXEC_FAILED, `the board raised: ${r.err.trim()}`);
    return r.out;
  }

  /** Sends the code in raw-paste mode if the board has it; false if it does not (plain mode then). */
  private async tryRawPaste(body: Buffer): Promise<boolean> {
    await this.link.write('\x05A\x01');
    // R\x01 yes, R\x00 no; a firmware that predates raw-paste resets its raw REPL at the Ctrl-A and
    // prints the banner again. Output of the board's own (a timer that prints) may come first.
    const answer = await this.link.readUntilAny(['R\x01', 'R\x00', RAW_BANNER], this.timeoutMs);
    if (!answer) this.lost('did not answer the raw-paste request');
    if (answer.marker === 'R\x01') {
      this.rawPaste = true;
      await this.pasteWrite(body);
      return true;
    }
    this.rawPaste = false;
    return false;
  }

  private async pasteWrite(body: Buffer): Promise<void> {
    const head = await this.link.readBytes(2, this.timeoutMs);
    if (!head) this.lost('did not give its raw-paste window');
    const window = head.readUInt16LE(0);
    let credit = 0; // bytes we may still send; the first \x01 follows the window size
    let off = 0;
    while (off < body.length) {
      while (credit === 0) {
        const flow = await this.link.readBytes(1, this.timeoutMs);
        if (!flow) this.lost('stopped granting raw-paste windows');
        if (flow[0] === 0x01) credit += window;
        else if (flow[0] === 0x04) {
          // the board ended the transfer early (a syntax error found while compiling)
          await this.link.write('\x04');
          return;
        }
      }
      const n = Math.min(credit, body.length - off);
      await this.link.write(body.subarray(off, off + n));
      off += n;
      credit -= n;
    }
    await this.link.write('\x04');
    // the board's acknowledgement of the end; flow bytes still on their way come before it
    if (!(await this.link.readUntil('\x04', this.timeoutMs))) this.lost('did not acknowledge the end');
  }

  private async result(): Promise<ExecResult> {
    const out = await this.link.readUntil('\x04', this.timeoutMs);
    if (!out) this.lost('did not finish the command');
    const err = await this.link.readUntil('\x04', this.timeoutMs);
    if (!err) this.lost('did not finish the command');
    // the prompt for the next command
    await this.link.readUntil('>', this.timeoutMs);
    return { out: out.subarray(0, -1), err: err.subarray(0, -1).toString('utf8') };
  }

  private lost(what: string): never {
    throw new MothershipError(
      ErrorCodes.RAW_REPL_FAILED,
      `the board ${what} (raw REPL on ${this.link.path})`,
    );
  }

  /**
   * Leaves the raw REPL and soft-resets the board in the friendly REPL, where the ESP32 runs boot.py
   * then main.py (a soft reset from the raw REPL would not run main.py).
   */
  async softReset(): Promise<void> {
    await this.link.write('\x02');
    await this.link.readUntil('>>> ', 2000);
    this.link.take();
    await this.link.write('\x04');
  }

  /** Back to the friendly REPL, the program not restarted. */
  async leave(): Promise<void> {
    await this.link.write('\x02');
  }
}
