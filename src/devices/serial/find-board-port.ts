/**
 * Which serial port the ESP32 is on: the USB-serial bridges ESP32 boards carry, by USB vendor and
 * product id, as the operating system reports them (serialport's list()).
 */
import { SerialPort } from 'serialport';
import { ErrorCodes, MothershipError } from '../../errors.js';
import { DIALOUT_HINT } from './open-port.js';

export interface PortInfo {
  path: string;
  vendorId?: string;
  productId?: string;
  manufacturer?: string;
  serialNumber?: string;
}

/** vendor:product (lower-case hex; product '*' = any) -> what the bridge is. */
const BRIDGES: [vendor: string, product: string, name: string][] = [
  ['10c4', 'ea60', 'CP210x'],
  ['1a86', '7523', 'CH340'],
  ['1a86', '55d4', 'CH9102'],
  ['0403', '6001', 'FTDI FT232R'],
  ['0403', '6015', 'FTDI FT231X'],
  ['303a', '*', 'Espressif native USB'],
];

/** The bridge's name when the port looks like an ESP32 board, else undefined. */
export function boardBridge(p: PortInfo): string | undefined {
  const v = p.vendorId?.toLowerCase();
  const pid = p.productId?.toLowerCase();
  return BRIDGES.find(([bv, bp]) => bv === v && (bp === '*' || bp === pid))?.[2];
}

export function describePort(p: PortInfo): string {
  const bridge = boardBridge(p);
  return `${p.path}${bridge ? ` (${bridge}${p.serialNumber ? ` ${p.serialNumber}` : ''})` : ''}`;
}

export interface FindOptions {
  /** The ports to choose from; default: the operating system's list. */
  list?: () => Promise<PortInfo[]>;
  /** Asked when several boards are plugged in: returns the path chosen. */
  choose?: (candidates: PortInfo[]) => Promise<string>;
}

/** The path of the one ESP32 plugged in; asks `choose` when there are several, fails clearly with none. */
export async function findBoardPort(opts: FindOptions = {}): Promise<string> {
  const ports = await (opts.list ?? (() => SerialPort.list()))();
  const boards = ports.filter((p) => boardBridge(p) !== undefined);
  if (boards.length === 1) return boards[0]!.path;
  if (boards.length > 1) {
    if (!opts.choose)
      throw new MothershipError(
        ErrorCodes.SERIAL_NO_BOARD,
        `several boards are plugged in: ${boards.map(describePort).join(', ')}; choose one with --port`,
      );
    return opts.choose(boards);
  }
  const others = ports.length ? ` Serial ports seen: ${ports.map((p) => p.path).join(', ')}.` : '';
  throw new MothershipError(
    ErrorCodes.SERIAL_NO_BOARD,
    `no ESP32 board found on USB (looked for CP210x, CH340, CH9102, FTDI and Espressif USB serial bridges).${others}\n` +
      `Check the cable (some carry only power), then give the port with --port.\n${DIALOUT_HINT}`,
  );
}
