import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { corkUntilImmediate } from '../../src/bridge/write-batching.js';

/** A stream that records each write it is handed: one entry per syscall a socket would make. */
function recordingStream(): { stream: Duplex; writes: number[] } {
  const writes: number[] = [];
  const stream = new Duplex({
    read() {},
    write(_chunk, _enc, done) {
      writes.push(1);
      done();
    },
    writev(chunks, done) {
      writes.push(chunks.length);
      done();
    },
  });
  return { stream, writes };
}

/** As MQTT.js writes a packet: corked, uncorked on the next tick; each packet in a tick of its own. */
async function writePacketsLikeMqttJs(stream: Duplex, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve) => process.nextTick(resolve));
    stream.cork();
    stream.write(Buffer.from([0x30, 0x00]));
    process.nextTick(() => stream.uncork());
  }
}

describe('corkUntilImmediate', () => {
  it('sends the packets written over several ticks of one turn in one write', async () => {
    const { stream, writes } = recordingStream();
    corkUntilImmediate(stream);
    corkUntilImmediate(stream); // once per turn, however many messages
    await writePacketsLikeMqttJs(stream, 5);
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(writes).toEqual([5]);
  });

  it('leaves the stream uncorked for the next turn (and without it, each packet is its own write)', async () => {
    const { stream, writes } = recordingStream();
    corkUntilImmediate(stream);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(stream.writableCorked).toBe(0);
    await writePacketsLikeMqttJs(stream, 3);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(writes).toEqual([1, 1, 1]);
  });
});
