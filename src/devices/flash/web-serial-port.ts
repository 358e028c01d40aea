// The part of the browser's Web Serial `SerialPort` that esptool-js's Transport uses (open,
// close, readable, writable, setSignals, getInfo, setBaudRate), over a Node SerialLink. The link
// stays open across esptool-js's close/open cycles: we own it, esptool-js only borrows it.
import { ErrorCodes, MothershipError } from '../../errors.js';
import type { SerialLink } from './link.js';

interface WebSignals {
  dataTerminalReady?: boolean;
  requestToSend?: boolean;
}

/** By hand: the strapping the auto-reset circuit would do (IO0 low while EN rises). */
export const HAND_BOOT = 'hold BOOT, tap EN/RESET, then release BOOT';

/** Setting DTR/RTS failed: the port cannot reset the board into its bootloader. */
export function noModemLines(err: unknown): MothershipError {
  const why = err instanceof Error ? err.message : String(err);
  return new MothershipError(
    ErrorCodes.FLASH_FAILED,
    `cannot set DTR/RTS on the serial port to reset the board into its bootloader (${why})`,
    { cause: err },
  );
}

export class WebSerialPort {
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  private signals = { dtr: false, rts: false };
  private detach: (() => void) | null = null;
  private linkGone: Error | null = null;

  private readonly watch: (err?: Error) => void;

  constructor(
    private readonly link: SerialLink,
    /** Called once when the line goes away under us (board unplugged, port closed). */
    onLinkGone: (err: Error) => void,
  ) {
    this.watch = (err?: Error) => {
      if (this.linkGone) return;
      this.linkGone = err instanceof Error ? err : new Error('the serial port closed');
      onLinkGone(this.linkGone);
    };
    // 'error' stays listened to while we hold the line: a second EIO must not become an uncaught error.
    link.stream.on('close', this.watch);
    link.stream.on('end', this.watch);
    link.stream.on('error', this.watch);
  }

  /** Gives the line back to its owner: our listeners go. */
  dispose(): void {
    this.link.stream.off('close', this.watch);
    this.link.stream.off('end', this.watch);
    this.link.stream.off('error', this.watch);
  }

  getInfo(): { usbVendorId?: number; usbProductId?: number } {
    return {};
  }

  async open(_options: unknown): Promise<void> {
    if (this.linkGone) throw this.linkGone;
    const stream = this.link.stream;
    let onData: (chunk: Buffer) => void = () => {};
    let end: () => void = () => {};
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        onData = (chunk) => controller.enqueue(new Uint8Array(chunk));
        end = () => {
          try {
            controller.close(); // esptool-js's read loop sees `done` and stops
          } catch {
            // already closed or cancelled
          }
        };
        stream.on('data', onData);
        stream.once('close', end);
        stream.resume();
      },
      cancel: () => this.detach?.(),
    });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          if (this.linkGone || stream.destroyed) {
            reject(this.linkGone ?? new Error('the serial port closed'));
            return;
          }
          stream.write(chunk, (err) => (err ? reject(err) : resolve()));
        }),
    });
    this.detach = () => {
      this.detach = null;
      stream.off('data', onData);
      stream.off('close', end);
      end();
    };
  }

  /**
   * Ends the streams without waiting for their locks (esptool-js's Transport.disconnect() waits
   * for them, and a write that failed on an unplugged port never releases its writer).
   */
  async close(): Promise<void> {
    // Paused, the bytes that arrive before the next reader are kept rather than dropped.
    this.link.stream.pause();
    this.detach?.();
    this.readable = null;
    this.writable = null;
  }

  async setSignals(signals: WebSignals): Promise<void> {
    if (signals.dataTerminalReady !== undefined) this.signals.dtr = signals.dataTerminalReady;
    if (signals.requestToSend !== undefined) this.signals.rts = signals.requestToSend;
    if (this.linkGone) throw this.linkGone;
    try {
      await this.link.setSignals({ ...this.signals });
    } catch (err) {
      throw noModemLines(err);
    }
  }

  get setBaudRate(): ((baud: number) => Promise<void>) | undefined {
    const set = this.link.setBaudRate;
    return set ? (baud) => set.call(this.link, baud) : undefined;
  }
}
