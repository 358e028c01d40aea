import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { parseFrame } from '../../src/protocol/frame-parser.js';

// src/protocol/frame-parser.ts reaches into mqtt-packet's parser (pinned exactly in package.json):
// it checks strings' raw bytes, one-byte properties' values, and resets the parser between frames.
// If an upgrade renames or changes what it relies on, this fails first, saying what moved.

describe('mqtt-packet private parser internals the frame parser relies on', () => {
  it('exist with the shapes frame-parser.ts expects', () => {
    const live = mqttPacket.parser({ protocolVersion: 4 });
    live.parse(Buffer.from([0xc0, 0])); // a PINGREQ: the read position exists once a packet was read
    const parser = live as unknown as Record<string, unknown>;
    for (const method of ['_parseString', '_parseByte', '_parseByType', '_resetState'])
      expect(typeof parser[method], `parser.${method}`).toBe('function');
    for (const field of ['_pos', '_stateCounter'])
      expect(typeof parser[field], `parser.${field}`).toBe('number');
    expect(typeof (parser._list as { slice?: unknown }).slice, 'parser._list.slice').toBe('function');
    expect(parser.settings, 'parser.settings').toBeTypeOf('object');
  });

  it('one-byte properties go through _parseByType("byte"): an out-of-range value is still caught', () => {
    // PUBLISH v5 'a', properties: Payload Format Indicator = 2, payload 'x'.
    const frame = Buffer.from([0x30, 7, 0, 1, 0x61, 2, 0x01, 0x02, 0x78]);
    expect(parseFrame(frame, 5).badByte).toBe(true);
    frame[7] = 1;
    expect(parseFrame(frame, 5).packet?.cmd).toBe('publish');
  });

  it('strings go through _parseString: ill-formed UTF-8 in a topic is caught', () => {
    const frame = Buffer.from([0x30, 5, 0, 2, 0xc3, 0x28, 0x41]);
    expect(parseFrame(frame, 4).badString).toBe(true);
  });
});
