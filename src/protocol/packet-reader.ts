import { isUtf8 } from 'node:buffer';
import type { Packet } from 'mqtt-packet';
import mqttPacket from 'mqtt-packet';

/** MQTT's own ceiling: a remaining length fits in four variable-length bytes. */
export const PROTOCOL_MAX_PACKET_SIZE = 268_435_455 + 5;

export type ReadProblem =
  | { kind: 'malformed'; message: string }
  | { kind: 'too-large'; size: number; limit: number }
  | { kind: 'unsupported-protocol'; message: string };

/**
 * Turns a byte stream into MQTT packets. mqtt-packet does the decoding; in front of it sits a frame
 * guard that reads each fixed header as it arrives, so a packet over the size limit is refused before
 * its body is buffered and a malformed remaining length is caught at its fifth byte.
 */
export class PacketReader {
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  /** Bytes of the current frame still to skip before the next fixed header. */
  private bodyLeft = 0;
  private headerBytes: number[] = [];
  private failed = false;

  constructor(
    private maxPacketSize: number,
    private readonly onPacket: (packet: Packet) => void,
    private readonly onProblem: (problem: ReadProblem) => void,
  ) {
    let badString = false;
    checkStringsOf(this.parser, () => {
      badString = true;
    });
    this.parser.on('packet', (packet: Packet) => {
      if (badString) {
        badString = false;
        // [MQTT-1.5.4-1]/[MQTT-1.5.4-2]: ill-formed UTF-8 or U+0000 in a string makes the packet malformed.
        this.fail({ kind: 'malformed', message: 'a string is not well-formed UTF-8 or contains U+0000' });
        return;
      }
      if (!this.failed) this.onPacket(packet);
    });
    this.parser.on('error', (err: Error) => this.fail(classifyParserError(err)));
  }

  setMaxPacketSize(limit: number): void {
    this.maxPacketSize = limit;
  }

  push(chunk: Buffer): void {
    if (this.failed) return;
    if (!this.scanFrames(chunk)) return;
    this.parser.parse(chunk);
  }

  private fail(problem: ReadProblem): void {
    if (this.failed) return;
    this.failed = true;
    this.onProblem(problem);
  }

  /** Walks frame boundaries in `chunk`; false when a frame is malformed or too large. */
  private scanFrames(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const skip = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= skip;
        i += skip;
        continue;
      }
      this.headerBytes.push(chunk[i]!);
      i++;
      const n = this.headerBytes.length;
      if (n === 1) continue;
      const byte = this.headerBytes[n - 1]!;
      if (byte & 0x80) {
        if (n === 5) {
          this.fail({ kind: 'malformed', message: 'remaining length longer than four bytes' });
          return false;
        }
        continue;
      }
      let remaining = 0;
      for (let k = n - 1; k >= 1; k--) remaining = remaining * 128 + (this.headerBytes[k]! & 0x7f);
      const size = n + remaining;
      const limit = this.maxPacketSize > 0 ? this.maxPacketSize : PROTOCOL_MAX_PACKET_SIZE;
      if (size > limit) {
        this.fail({ kind: 'too-large', size, limit });
        return false;
      }
      this.headerBytes = [];
      this.bodyLeft = remaining;
    }
    return true;
  }
}

interface ParserInternals {
  _pos: number;
  _list: { slice(start: number, end: number): Buffer };
  _parseString(): string | null;
}

/**
 * mqtt-packet decodes strings leniently (ill-formed bytes become U+FFFD), which would hide invalid
 * UTF-8 and reject a real U+FFFD; this checks each string's raw bytes instead.
 */
function checkStringsOf(parser: object, onBad: () => void): void {
  const p = parser as ParserInternals;
  const parseString = p._parseString.bind(p);
  p._parseString = () => {
    const start = p._pos;
    const result = parseString();
    if (result === null) return null;
    const raw = p._list.slice(start + 2, p._pos);
    if (!isUtf8(raw) || raw.includes(0)) {
      onBad();
      return null;
    }
    return result;
  };
}

function classifyParserError(err: Error): ReadProblem {
  if (/protocol version|protocolId/i.test(err.message))
    return { kind: 'unsupported-protocol', message: err.message };
  return { kind: 'malformed', message: err.message };
}

/** Encodes one packet for a connection of the given protocol version. */
export function encodePacket(packet: Packet | Record<string, unknown>, protocolVersion: number): Buffer {
  return mqttPacket.generate(packet as Packet, { protocolVersion } as never);
}
