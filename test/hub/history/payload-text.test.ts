import { describe, expect, it } from 'vitest';
import { payloadText } from '../../../src/hub/history/payload-text.js';

/** The payload at an offset inside a larger buffer, as the writer sees it in a hand-over. */
const at = (bytes: Buffer): [Buffer, number, number] => {
  const buf = Buffer.concat([Buffer.from([0, 1, 2, 0xff]), bytes, Buffer.from([0xfe, 0])]);
  return [buf, 4, 4 + bytes.length];
};

describe("the writer's payload text", () => {
  it('decodes plain ASCII, tabs and line ends included', () => {
    expect(payloadText(...at(Buffer.from('{"t":24.1}\r\n\t')))).toBe('{"t":24.1}\r\n\t');
    expect(payloadText(...at(Buffer.alloc(0)))).toBe('');
  });

  it('decodes UTF-8 beyond ASCII', () => {
    expect(payloadText(...at(Buffer.from('t=24.1°C, capteur é')))).toBe('t=24.1°C, capteur é');
  });

  it('turns away control characters, in ASCII and in UTF-8 text, and bytes that are not UTF-8', () => {
    expect(payloadText(...at(Buffer.from([0x31, 0x00, 0x32])))).toBeUndefined();
    expect(payloadText(...at(Buffer.from('°C\u0001', 'utf8')))).toBeUndefined();
    expect(payloadText(...at(Buffer.from([0x32, 0x31, 0xc3])))).toBeUndefined(); // a cut sequence
    expect(payloadText(...at(Buffer.from([0xff, 0xfe, 0x41])))).toBeUndefined();
  });
});
