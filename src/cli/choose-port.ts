/** The board's serial port when --port is not given: the one ESP32 on USB, or the user's pick of several. */
import { createInterface } from 'node:readline/promises';
import { describePort, findBoardPort, type PortInfo } from '../devices/serial/find-board-port.js';

async function ask(candidates: PortInfo[]): Promise<string> {
  const err = process.stderr;
  err.write('Several boards are plugged in:\n');
  for (const [i, p] of candidates.entries()) err.write(`  ${i + 1}) ${describePort(p)}\n`);
  const rl = createInterface({ input: process.stdin, output: err });
  try {
    for (;;) {
      const a = (await rl.question(`Which one (1-${candidates.length})? `)).trim();
      const p = candidates[Number(a) - 1];
      if (p && /^\d+$/.test(a)) return p.path;
    }
  } finally {
    rl.close();
  }
}

export function choosePort(): Promise<string> {
  return findBoardPort(process.stdin.isTTY ? { choose: ask } : {});
}
