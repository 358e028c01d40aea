import type { Packet } from 'mqtt-packet';
import mqttPacket from 'mqtt-packet';
import { parseFrame } from './frame-parser.js';
import { decodePublish } from './publish-codec.js';

/** MQTT's own ceiling: a remaining length fits in four variable-length bytes. */
export const PROTOCOL_MAX_PACKET_SIZE = 268_435_455 + 5;

/**
 * The largest CONNECT accepted (client id, credentials and will included): a connection that has not
 * logged in can make the broker buffer no more than this (a will of a few KB is typical).
 */
export const DEFAULT_MAX_CONNECT_SIZE = 64 * 1024;

export type ReadProblem =
  | { kind: 'malformed'; message: string }
  | { kind: 'protocol-error'; message: string }
  | { kind: 'too-large'; size: number; limit: number }
  | { kind: 'unsupported-protocol'; message: string };

/**
 * Turns a byte stream into MQTT packets. It cuts the stream into frames itself, reading each fixed
 * header as it arrives, so a packet over the size limit is refused before its body is buffered and a
 * malformed remaining length is caught at its fifth byte. PUBLISH frames in their common form are
 * decoded here (publish-codec.ts); every other frame goes to mqtt-packet, whole.
 */
export class PacketReader {
  /** Fixed-header bytes of a frame whose header began in an earlier chunk. */
  private header: number[] = [];
  /** Pieces of a frame that spans chunks, and how many body bytes are still to come. */
  private pieces: Buffer[] | undefined;
  private piecesHeaderLength = 0;
  private bodyLeft = 0;
  /** The protocol version of the CONNECT read, once there is one; PUBLISH is decoded for it. */
  private protocolVersion: number | undefined;
  private failed = false;

  constructor(
    private maxPacketSize: number,
    private readonly onPacket: (packet: Packet) => void,
    private readonly onProblem: (problem: ReadProblem) => void,
    /** Largest first packet (the CONNECT): a client that has not logged in buffers at most this. */
    private readonly maxConnectSize = DEFAULT_MAX_CONNECT_SIZE,
  ) {}

  setMaxPacketSize(limit: number): void {
    this.maxPacketSize = limit;
  }

  push(chunk: Buffer): void {
    const len = chunk.length;
    let i = 0;
    while (i < len && !this.failed) {
      // [MQTT-3.1.0-1]: the first packet is CONNECT. Anything else is refused at its first byte,
      // before a body of any size is buffered for a client nobody has authenticated.
      if (
        this.protocolVersion === undefined &&
        !this.pieces &&
        this.header.length === 0 &&
        chunk[i]! >> 4 !== 1
      ) {
        this.fail({ kind: 'malformed', message: 'the first packet is not CONNECT' });
        return;
      }
      if (this.pieces) {
        const take = Math.min(this.bodyLeft, len - i);
        this.pieces.push(chunk.subarray(i, i + take));
        this.bodyLeft -= take;
        i += take;
        if (this.bodyLeft === 0) this.completeSpanningFrame();
        continue;
      }
      const start = i;
      let remaining: number;
      let headerLength: number;
      if (this.header.length === 0 && len - i >= 2 && chunk[i + 1]! < 0x80) {
        // The usual case: a one-byte remaining length, header wholly in this chunk.
        remaining = chunk[i + 1]!;
        headerLength = 2;
        i += 2;
      } else {
        const header = this.header;
        let complete = false;
        while (i < len) {
          const byte = chunk[i++]!;
          header.push(byte);
          if (header.length === 1) continue;
          if ((byte & 0x80) === 0) {
            complete = true;
            break;
          }
          if (header.length === 5) {
            this.fail({ kind: 'malformed', message: 'remaining length longer than four bytes' });
            return;
          }
        }
        if (!complete) return; // the header goes on in the next chunk
        remaining = 0;
        for (let k = header.length - 1; k >= 1; k--) remaining = remaining * 128 + (header[k]! & 0x7f);
        headerLength = header.length;
      }
      const size = headerLength + remaining;
      let limit = this.maxPacketSize > 0 ? this.maxPacketSize : PROTOCOL_MAX_PACKET_SIZE;
      if (this.protocolVersion === undefined) limit = Math.min(limit, this.maxConnectSize);
      if (size > limit) {
        this.fail({ kind: 'too-large', size, limit });
        return;
      }
      const headerInThisChunk = this.header.length === 0 || i - start === this.header.length;
      if (headerInThisChunk && len - i >= remaining) {
        this.header = [];
        this.frame(chunk.subarray(start, i + remaining), headerLength);
        i += remaining;
        continue;
      }
      this.pieces = [headerInThisChunk ? chunk.subarray(start, i) : Buffer.from(this.header)];
      this.header = [];
      this.piecesHeaderLength = headerLength;
      this.bodyLeft = remaining;
      if (remaining === 0) this.completeSpanningFrame();
    }
  }

  private completeSpanningFrame(): void {
    const frame = Buffer.concat(this.pieces!);
    this.pieces = undefined;
    this.frame(frame, this.piecesHeaderLength);
  }

  /** One whole frame: decoded here when it is a common PUBLISH, else by mqtt-packet. */
  private frame(frame: Buffer, headerLength: number): void {
    const version = this.protocolVersion;
    if (version !== undefined && frame[0]! >> 4 === 3) {
      const packet = decodePublish(frame, headerLength, version);
      if (packet) {
        this.onPacket(packet);
        return;
      }
    }
    const result = parseFrame(frame, version ?? 4);
    if (result.packet) {
      const packet = result.packet;
      if (packet.cmd === 'connect' && version === undefined) this.protocolVersion = packet.protocolVersion;
      this.onPacket(packet);
    } else if (result.badByte) {
      this.fail({ kind: 'protocol-error', message: 'a one-byte property has a value other than 0 or 1' });
    } else if (result.badString) {
      // [MQTT-1.5.4-1]/[MQTT-1.5.4-2]: ill-formed UTF-8 or U+0000 in a string makes the packet malformed.
      this.fail({ kind: 'malformed', message: 'a string is not well-formed UTF-8 or contains U+0000' });
    } else {
      this.fail(classifyParserError(result.error));
    }
  }

  private fail(problem: ReadProblem): void {
    if (this.failed) return;
    this.failed = true;
    this.onProblem(problem);
  }
}

function classifyParserError(err: Error): ReadProblem {
  if (/protocol version|protocolId/i.test(err.message))
    return { kind: 'unsupported-protocol', message: err.message };
  return { kind: 'malformed', message: err.message };
}

/** Encodes one packet for a connection of the given protocol version. */
export function encodePacket(packet: Packet, protocolVersion: number): Buffer {
  return mqttPacket.generate(packet as Packet, { protocolVersion } as never);
}
