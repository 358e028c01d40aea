/** The user's pick among several boards: a numbered list, then a number read until it is one of them. */
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { ErrorCodes, MothershipError } from '../../errors.js';
import { describePort, type PortInfo } from './find-board-port.js';

export async function askBoardPort(
  candidates: PortInfo[],
  input: Readable,
  output: Writable,
): Promise<string> {
  output.write('Several boards are plugged in:\n');
  for (const [i, p] of candidates.entries()) output.write(`  ${i + 1}) ${describePort(p)}\n`);
  const rl = createInterface({ input, output });
  // readline leaves a question pending forever when its input ends (Ctrl-D): that is a refusal.
  const ended = new Promise<never>((_, reject) =>
    rl.once('close', () =>
      reject(new MothershipError(ErrorCodes.SERIAL_NO_BOARD, 'no board chosen; give its port with --port')),
    ),
  );
  ended.catch(() => {});
  try {
    for (;;) {
      const a = (await Promise.race([rl.question(`Which one (1-${candidates.length})? `), ended])).trim();
      const p = candidates[Number(a) - 1];
      if (p && /^\d+$/.test(a)) return p.path;
    }
  } finally {
    rl.close();
  }
}
