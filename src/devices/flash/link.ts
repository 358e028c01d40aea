// The serial line to a board as the flasher needs it: bytes both ways plus the two modem lines
// that USB-serial bridges wire to the ESP32's EN and IO0 pins (the auto-reset circuit).
import type { Duplex } from 'node:stream';

export interface ModemSignals {
  /** Data Terminal Ready: on dev boards, asserted pulls IO0 low (boot mode strapping). */
  dtr: boolean;
  /** Request To Send: on dev boards, asserted pulls EN low (chip held in reset). */
  rts: boolean;
}

export interface SerialLink {
  /** An open serial line: what is written goes to the board, 'data' is what it sends. */
  readonly stream: Duplex;
  setSignals(signals: ModemSignals): Promise<void>;
  /** Changes this side's baud rate; without it the flasher stays at the ROM's 115200. */
  setBaudRate?(baud: number): Promise<void>;
  /** False for a closed port whose stream would hold writes until it reopens (serialport does). */
  isOpen?(): boolean;
}

/** What the flasher uses of a `serialport` SerialPort (a Duplex with set() and update()). */
export interface SerialPortLike extends Duplex {
  readonly isOpen: boolean;
  set(options: { dtr?: boolean; rts?: boolean }, callback?: (err: Error | null) => void): void;
  update(options: { baudRate: number }, callback?: (err: Error | null) => void): void;
}

/** Adapts an open `serialport` SerialPort to the link the flasher drives. */
export function serialPortLink(port: SerialPortLike): SerialLink {
  const call = (fn: (done: (err: Error | null) => void) => void): Promise<void> =>
    new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
  return {
    stream: port,
    // Both lines every time: serialport fills an omitted line with its default (asserted).
    setSignals: ({ dtr, rts }) => call((done) => port.set({ dtr, rts }, done)),
    setBaudRate: (baudRate) => call((done) => port.update({ baudRate }, done)),
    isOpen: () => port.isOpen,
  };
}
