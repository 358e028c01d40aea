// The raw REPL on the simulated board's serial line: repeated entries into a board whose program
// prints all the time, Python errors, and a line with no MicroPython behind it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawRepl } from '../../../src/devices/repl/raw-repl.js';
import { SerialLink } from '../../../src/devices/serial/serial-link.js';
import { isMothershipError } from '../../../src/errors.js';
import { ptyPair, type SerialBoard, serialBoard } from '../harness/serial-board.js';

const CHATTY_MAIN =
  'import asyncio\nasync def m():\n    while True:\n        print("reading t=21.5C h=40%")\n        await asyncio.sleep_ms(2)\nasyncio.run(m())\n';
/** The target is 0 failures in 100 consecutive runs. */
const RUNS = 100;

let sb: SerialBoard;
beforeAll(async () => {
  sb = await serialBoard({ files: { 'main.py': CHATTY_MAIN }, rawPaste: true });
});
afterAll(async () => {
  await sb?.close();
});

describe('raw REPL', () => {
  it(`enters the raw REPL ${RUNS} times in a row on a board whose program prints every 2 ms`, async () => {
    const failures: string[] = [];
    const t0 = Date.now();
    for (let i = 0; i < RUNS; i++) {
      const link = await SerialLink.open(sb.pty.host);
      try {
        const repl = new RawRepl(link);
        await repl.enter();
        const out = await repl.run(`print(${i} * 2)`);
        if (out.toString().trim() !== String(i * 2))
          failures.push(`run ${i}: got ${JSON.stringify(out.toString())}`);
        // main.py starts printing again before the next run
        await repl.softReset();
      } catch (err) {
        failures.push(`run ${i}: ${(err as Error).message}`);
      } finally {
        await link.close();
      }
    }
    console.log(
      `[figure] raw REPL: ${RUNS - failures.length}/${RUNS} entries, ${Math.round((Date.now() - t0) / RUNS)} ms each (open, enter, exec, soft reset)`,
    );
    expect(failures).toEqual([]);
  }, 300_000);

  it("raises the board's traceback as MS_BOARD_EXEC_FAILED and stays usable", async () => {
    const link = await SerialLink.open(sb.pty.host);
    try {
      const repl = new RawRepl(link);
      await repl.enter();
      const err = await repl.run('import nosuchmodule').catch((e) => e);
      expect(isMothershipError(err, 'MS_BOARD_EXEC_FAILED')).toBe(true);
      expect(err.message).toMatch(/ImportError: no module named 'nosuchmodule'/);
      expect((await repl.run('print("still here")')).toString().trim()).toBe('still here');
    } finally {
      await link.close();
    }
  });

  it('a line with no MicroPython behind it fails clearly after its retries', async () => {
    const pty = await ptyPair();
    const link = await SerialLink.open(pty.host);
    try {
      const err = await new RawRepl(link, { attempts: 2 }).enter().catch((e) => e);
      expect(isMothershipError(err, 'MS_RAW_REPL_FAILED')).toBe(true);
      expect(err.message).toContain('no MicroPython raw REPL');
      expect(err.message).toContain('after 2 tries');
    } finally {
      await link.close();
      await pty.unplug();
    }
  });
});
