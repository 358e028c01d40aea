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
    this.parser.on('packet', (packet: Packet) => {
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

function classifyParserError(err: Error): ReadProblem {
  if (/protocol version|protocolId/i.test(err.message))
    return { kind: 'unsupported-protocol', message: err.message };
  return { kind: 'malformed', message: err.message };
}

/** Encodes one packet for a connection of the given protocol version. */
export function encodePacket(packet: Packet | Record<string, unknown>, protocolVersion: number): Buffer {
  return mqttPacket.generate(packet as Packet, { protocolVersion } as never);
}
