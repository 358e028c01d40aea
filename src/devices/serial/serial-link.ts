/**
 * One open serial line to a board (a USB-serial adapter, or any tty such as a pseudo-terminal): bytes
 * in and out, with the waits the REPL protocol needs (until a marker, until n bytes) bounded in time.
 */
import { EventEmitter } from 'node:events';
import type { SerialPort } from 'serialport';
import { ErrorCodes, MothershipError } from '../../errors.js';
import { openSerialPort } from './open-port.js';

export const DEFAULT_BAUD = 115200;

export class SerialLink extends EventEmitter {
  private buf: Buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private closedError: MothershipError | undefined;

  private constructor(
    readonly path: string,
    private readonly port: SerialPort,
  ) {
    super();
    port.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.emit('data', d);
      this.wake?.();
    });
    port.on('close', (err?: Error | null) => this.gone(err));
    port.on('error', (err: Error) => this.gone(err));
  }

  private gone(err?: Error | null): void {
    if (this.closedError) return;
    this.closedError = new MothershipError(
      ErrorCodes.SERIAL_CLOSED,
      `the serial line ${this.path} went away${err ? ` (${err.message})` : ''}: was the board unplugged?`,
    );
    this.emit('close');
    this.wake?.();
  }

  static async open(path: string, baudRate = DEFAULT_BAUD): Promise<SerialLink> {
    const port = await openSerialPort(path, baudRate);
    return new SerialLink(path, port);
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  async write(data: string | Buffer): Promise<void> {
    if (this.closedError) throw this.closedError;
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error) => {
        this.gone(err);
        reject(this.closedError);
      };
      this.port.write(b, (err) => (err ? failed(err) : undefined));
      this.port.drain((err) => (err ? failed(err) : resolve()));
    });
  }

  /** Drops whatever arrived so far (a program's output, noise), returning it. */
  take(): Buffer {
    const b = this.buf;
    this.buf = Buffer.alloc(0);
    return b;
  }

  /** Everything up to and including `marker`; null if it did not come within timeoutMs. */
  async readUntil(marker: string | Buffer, timeoutMs: number): Promise<Buffer | null> {
    const m = typeof marker === 'string' ? Buffer.from(marker, 'latin1') : marker;
    return this.waitFor(() => {
      const i = this.buf.indexOf(m);
      return i < 0 ? undefined : i + m.length;
    }, timeoutMs);
  }

  /** Everything up to the first of `markers` that arrives, and which one it was; null on timeout. */
  async readUntilAny(markers: string[], timeoutMs: number): Promise<{ data: Buffer; marker: string } | null> {
    let hit = '';
    const data = await this.waitFor(() => {
      let best: number | undefined;
      for (const m of markers) {
        const i = this.buf.indexOf(m, 0, 'latin1');
        if (i >= 0 && (best === undefined || i + m.length < best)) {
          best = i + m.length;
          hit = m;
        }
      }
      return best;
    }, timeoutMs);
    return data ? { data, marker: hit } : null;
  }

  /** Exactly n bytes; null if they did not come within timeoutMs. */
  async readBytes(n: number, timeoutMs: number): Promise<Buffer | null> {
    return this.waitFor(() => (this.buf.length >= n ? n : undefined), timeoutMs);
  }

  private async waitFor(end: () => number | undefined, timeoutMs: number): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = end();
      if (n !== undefined) {
        const out = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
        return out;
      }
      if (this.closedError) throw this.closedError;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  async close(): Promise<void> {
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}
