/** `mothership device ls|cat|rm|reset|repl`: a board's files and REPL over its serial line. */
import { parseArgs } from 'node:util';
import { BoardFiles } from '../../devices/repl/board-files.js';
import { RawRepl } from '../../devices/repl/raw-repl.js';
import { terminal } from '../../devices/repl/terminal.js';
import { SerialLink } from '../../devices/serial/serial-link.js';
import { choosePort } from '../choose-port.js';
import { usageError } from '../command-args.js';

const HELP = `Usage: mothership device <command> [--port PATH] [args]

A board running MicroPython, over USB (the one ESP32 plugged in, or --port):

  ls [DIR]      list a folder of the board (default /)
  cat FILE      print a file of the board
  rm FILE       remove a file from the board
  reset         soft-reset the board (it runs boot.py and main.py again)
  repl          the board's REPL on this terminal; Ctrl-] leaves

Options:
      --port PATH   the board's serial port
  -h, --help        this help
`;

const SUBCOMMANDS = ['ls', 'cat', 'rm', 'reset', 'repl'] as const;
type Sub = (typeof SUBCOMMANDS)[number];
const NEEDS_PATH: Record<Sub, 'none' | 'optional' | 'required'> = {
  ls: 'optional',
  cat: 'required',
  rm: 'required',
  reset: 'none',
  repl: 'none',
};

function parse(args: string[]): { sub: Sub; port?: string; path?: string } | undefined {
  let parsed: ReturnType<
    typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; args: string[] }>
  >;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError('device', (err as Error).message);
  }
  if (parsed.values.help) return undefined;
  const [sub, path, ...extra] = parsed.positionals;
  if (!SUBCOMMANDS.includes(sub as Sub))
    throw usageError('device', sub ? `unknown command '${sub}'` : `which one: ${SUBCOMMANDS.join(', ')}?`);
  const need = NEEDS_PATH[sub as Sub];
  if (need === 'required' && path === undefined) throw usageError('device', `${sub} needs a file name`);
  if ((need === 'none' && path !== undefined) || extra.length)
    throw usageError('device', `unexpected argument '${need === 'none' ? path : extra[0]}'`);
  return { sub: sub as Sub, port: parsed.values.port, path };
}

const OPTIONS = {
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(args: string[]): Promise<number> {
  const cmd = parse(args);
  if (!cmd) {
    process.stdout.write(HELP);
    return 0;
  }
  const link = await SerialLink.open(cmd.port ?? (await choosePort()));
  try {
    if (cmd.sub === 'repl') {
      process.stderr.write(`Connected to ${link.path}; Ctrl-] to leave.\n`);
      await link.write('\r');
      await terminal(link, process.stdin, process.stdout);
      return 0;
    }
    const repl = new RawRepl(link);
    await repl.enter();
    const files = new BoardFiles(repl);
    switch (cmd.sub) {
      case 'ls':
        for (const e of await files.ls(cmd.path ?? '/'))
          process.stdout.write(e.dir ? `${e.name}/\n` : `${String(e.size).padStart(8)} ${e.name}\n`);
        return 0;
      case 'cat': {
        const data = await files.cat(cmd.path!);
        if (data === null) {
          process.stderr.write(`mothership device: no file ${cmd.path} on the board\n`);
          return 1;
        }
        process.stdout.write(data);
        return 0;
      }
      case 'rm':
        if (!(await files.rm(cmd.path!))) {
          process.stderr.write(`mothership device: no file ${cmd.path} on the board\n`);
          return 1;
        }
        return 0;
      case 'reset':
        await repl.softReset();
        return 0;
    }
  } finally {
    await link.close();
  }
}
