/**
 * `mothership device repl`: the board's friendly REPL on this terminal. Keys go to the board as typed
 * (raw mode), its output comes back as is; Ctrl-] leaves, as in mpremote and miniterm.
 */
import type { Readable, Writable } from 'node:stream';
import type { SerialLink } from '../serial/serial-link.js';

const CTRL_RIGHT_BRACKET = 0x1d;

export async function terminal(
  link: SerialLink,
  input: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown },
  output: Writable,
): Promise<void> {
  const show = (d: Buffer) => output.write(d);
  output.write(link.take());
  link.on('data', show);
  if (input.isTTY) input.setRawMode?.(true);
  try {
    await new Promise<void>((resolve) => {
      const onKeys = (d: Buffer) => {
        const stop = d.indexOf(CTRL_RIGHT_BRACKET);
        const keys = stop >= 0 ? d.subarray(0, stop) : d;
        if (keys.length) void link.write(keys).catch(() => {});
        if (stop >= 0) done();
      };
      const done = () => {
        input.off('data', onKeys);
        input.off('end', done);
        link.off('close', done);
        resolve();
      };
      input.on('data', onKeys);
      input.once('end', done);
      link.once('close', done);
      input.resume();
    });
  } finally {
    if (input.isTTY) input.setRawMode?.(false);
    input.pause();
    link.off('data', show);
  }
}
