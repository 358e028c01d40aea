import { isUtf8 } from 'node:buffer';
import type { Packet } from 'mqtt-packet';
import mqttPacket from 'mqtt-packet';

/** What parsing one whole frame gave: a packet, or why it is not one. */
export type FrameResult =
  | { packet: Packet; error?: undefined; badString?: undefined; badByte?: undefined }
  | { packet?: undefined; error: Error; badString?: undefined; badByte?: undefined }
  | { packet?: undefined; error?: undefined; badString: true; badByte?: undefined }
  | { packet?: undefined; error?: undefined; badString?: undefined; badByte: true };

interface ParserInternals {
  settings: { protocolVersion: number };
  error: Error | null;
  packet: unknown;
  _pos: number;
  _stateCounter: number;
  _list: { length: number; slice(start: number, end: number): Buffer };
  _parseString(): string | null;
  _parseByte(): number;
  _parseByType(type: string): unknown;
  _resetState(): void;
}

/**
 * mqtt-packet's parser, shared by every connection: the reader hands it whole frames only, so it
 * holds no state between calls and one instance serves all (each parser is an EventEmitter with a
 * `bl` stream inside, ~1.5 KB that an idle connection need not carry). Packets are handed on only
 * after parse() returns, so no handler can run while the parser is busy.
 */
class FrameParser {
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  private readonly internals = this.parser as unknown as ParserInternals;
  private result: FrameResult | undefined;
  private badString = false;
  private badByte = false;

  constructor() {
    const p = this.internals;
    const parseByType = p._parseByType.bind(p);
    // Every one-byte v5 property (Payload Format Indicator, Request Problem/Response Information, and
    // the server's flags) may only be 0 or 1; mqtt-packet turns any byte into a boolean, which would
    // forward 0xED as "UTF-8". Any other value is a protocol error (0x82).
    p._parseByType = (type: string) => {
      if (type !== 'byte') return parseByType(type);
      const value = p._parseByte();
      if (value > 1) this.badByte = true;
      return value !== 0;
    };
    const parseString = p._parseString.bind(p);
    // mqtt-packet decodes strings leniently (ill-formed bytes become U+FFFD), which would hide invalid
    // UTF-8 and reject a real U+FFFD; this checks each string's raw bytes instead.
    p._parseString = () => {
      const start = p._pos;
      const value = parseString();
      if (value === null) return null;
      const raw = p._list.slice(start + 2, p._pos);
      if (!isUtf8(raw) || raw.includes(0)) {
        this.badString = true;
        return null;
      }
      return value;
    };
    this.parser.on('packet', (packet: Packet) => {
      this.result = this.badString ? { badString: true } : this.badByte ? { badByte: true } : { packet };
    });
    this.parser.on('error', (error: Error) => {
      this.result ??= this.badString ? { badString: true } : { error };
    });
  }

  parse(frame: Buffer, protocolVersion: number): FrameResult {
    const p = this.internals;
    this.result = undefined;
    this.badString = false;
    this.badByte = false;
    // Parsing a CONNECT replaces the settings with the packet: set the version for every frame.
    p.settings = settingsFor(protocolVersion);
    try {
      this.parser.parse(frame);
    } finally {
      // A frame is whole, so a clean parse leaves nothing behind; anything else starts afresh.
      // (_resetState leaves the read position behind: it is reset here too.)
      if (p.error || p._list.length > 0 || p._stateCounter !== 0) {
        p._resetState();
        p._pos = 0;
      }
    }
    return this.result ?? { error: new Error('incomplete packet') };
  }
}

const SETTINGS: Record<number, { protocolVersion: number }> = {
  3: { protocolVersion: 3 },
  4: { protocolVersion: 4 },
  5: { protocolVersion: 5 },
};
function settingsFor(protocolVersion: number): { protocolVersion: number } {
  return SETTINGS[protocolVersion] ?? SETTINGS[4]!;
}

const shared = new FrameParser();

/** Parses one whole MQTT frame with mqtt-packet. */
export function parseFrame(frame: Buffer, protocolVersion: number): FrameResult {
  return shared.parse(frame, protocolVersion);
}
