/**
 * `mothership passwd`: mosquitto_passwd's flags, messages and exit codes, on the same file format.
 * Deliberate differences: a file with comments or a bad line is never rewritten (mosquitto_passwd
 * truncates it), and -U leaves lines that are already hashed as they are instead of hashing the hash.
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import {
  hashPassword,
  type PasswordAlgorithm,
  PasswordFile,
  readPasswordFile,
  writePasswordFile,
} from '../../broker/auth/password-file.js';
import { isMothershipError } from '../../errors.js';

const USAGE = `mothership passwd is a tool for managing password files for mothership and mosquitto.

Usage: mothership passwd [-H sha512 | -H sha512-pbkdf2] [-c | -D] passwordfile username
       mothership passwd [-H sha512 | -H sha512-pbkdf2] [-c] -b passwordfile username password
       mothership passwd -U passwordfile
 -b : run in batch mode to allow passing passwords on the command line.
 -c : create a new password file. This will overwrite existing files.
 -D : delete the username rather than adding/updating its password.
 -H : specify the hashing algorithm. Defaults to sha512-pbkdf2, which is recommended.
      Mosquitto 1.6 and earlier defaulted to sha512.
 -U : update a plain text password file to use hashed passwords.
`;

export interface PasswdIo {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: Writable;
  stderr: Writable;
}

class Exit {
  constructor(readonly code: number) {}
}

/** Reads the two passwords: hidden keystrokes from a terminal, plain lines from a pipe. */
export function passwordReader(io: PasswdIo): {
  next(prompt: string): Promise<string | undefined>;
  close(): void;
} {
  if (io.stdin.isTTY && io.stdin.setRawMode) {
    const stdin = io.stdin;
    return {
      next: (prompt) =>
        new Promise((resolve) => {
          io.stdout.write(prompt);
          let typed = '';
          stdin.setRawMode!(true);
          stdin.resume();
          const onData = (chunk: Buffer) => {
            for (const ch of chunk.toString('utf8')) {
              if (ch === '\r' || ch === '\n' || ch === '\u0004') {
                stdin.off('data', onData);
                stdin.setRawMode!(false);
                stdin.pause();
                io.stdout.write('\n');
                resolve(typed);
                return;
              }
              if (ch === '\u0003') {
                stdin.setRawMode!(false);
                io.stdout.write('\n');
                process.exit(130);
              }
              if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
              else typed += ch;
            }
          };
          stdin.on('data', onData);
        }),
      close: () => {},
    };
  }
  const rl = createInterface({ input: io.stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  return {
    async next(prompt) {
      io.stdout.write(`${prompt}\n`);
      const r = await lines.next();
      return r.done ? undefined : r.value;
    },
    close: () => rl.close(),
  };
}

async function askPassword(io: PasswdIo): Promise<string> {
  const reader = passwordReader(io);
  try {
    const first = await reader.next('Password: ');
    if (!first) {
      io.stderr.write('Error: Empty password.\n');
      throw new Exit(1);
    }
    const second = await reader.next('Reenter password: ');
    if (second === undefined) {
      io.stderr.write('Error: Empty password.\n');
      throw new Exit(1);
    }
    if (first !== second) {
      io.stderr.write('Error: Passwords do not match.\n');
      throw new Exit(2);
    }
    return first;
  } finally {
    reader.close();
  }
}

interface Flags {
  batch: boolean;
  create: boolean;
  remove: boolean;
  upgrade: boolean;
  algorithm: PasswordAlgorithm;
  rest: string[];
}

const OPTIONS = {
  b: { type: 'boolean' },
  c: { type: 'boolean' },
  D: { type: 'boolean' },
  U: { type: 'boolean' },
  H: { type: 'string' },
  h: { type: 'boolean' },
  help: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

const FLAG_FIELDS = { b: 'batch', c: 'create', D: 'remove', U: 'upgrade' } as const;

function parseFlags(args: string[], io: PasswdIo): Flags {
  const f: Flags = {
    batch: false,
    create: false,
    remove: false,
    upgrade: false,
    algorithm: 'sha512-pbkdf2',
    rest: [],
  };
  const fail = (message: string): never => {
    io.stderr.write(`Error: ${message}\n`);
    throw new Exit(1);
  };
  // mosquitto_passwd reads flags up to the first word that is not one of its flags exactly (so "-bc" or
  // "-Hsha512" is a file name), and everything from there on is the file, user and password.
  const { tokens } = parseArgs({
    args,
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  let restAt = args.length;
  for (const token of tokens) {
    const exact =
      token.kind === 'option' && Object.hasOwn(OPTIONS, token.name) && args[token.index] === token.rawName;
    if (!exact) {
      restAt = token.index;
      break;
    }
    if (token.name === 'H') {
      const h = token.value;
      if (h === undefined) fail('-H argument given but not enough other arguments.');
      if (h !== 'sha512' && h !== 'sha512-pbkdf2') fail(`Unknown hash type '${h}'`);
      f.algorithm = h as PasswordAlgorithm;
    } else if (token.name === 'h' || token.name === 'help') {
      io.stdout.write(USAGE);
      throw new Exit(1);
    } else {
      f[FLAG_FIELDS[token.name as keyof typeof FLAG_FIELDS]] = true;
    }
  }
  f.rest = args.slice(restAt);
  if (f.rest.some((a) => /^-[bcDUH]$/.test(a))) {
    io.stdout.write(USAGE);
    throw new Exit(1);
  }
  if (f.create && f.remove) fail('-c and -D cannot be used together.');
  if (f.batch && f.remove) fail('-b and -D cannot be used together.');
  const n = f.rest.length;
  if (f.upgrade) {
    if (n !== 1) fail('-U argument given but password file missing.');
  } else if (f.create) {
    if (f.batch && n !== 3) fail('-c argument given but password file, username, or password missing.');
    if (!f.batch && n !== 2) fail('-c argument given but password file or username missing.');
  } else if (f.remove) {
    if (n !== 2) fail('-D argument given but password file or username missing.');
  } else if ((f.batch && n !== 3) || (!f.batch && n !== 2)) {
    io.stdout.write(USAGE);
    throw new Exit(1);
  }
  return f;
}

async function open(path: string, io: PasswdIo, allowPlain = false): Promise<PasswordFile> {
  try {
    return await readPasswordFile(path, { allowPlain });
  } catch (err) {
    if (!isMothershipError(err)) throw err;
    io.stderr.write(
      err.code === 'MS_AUTH_FILE_UNREADABLE'
        ? `Error: Unable to open password file ${path}. No such file or directory.\n`
        : `Error: ${err.message}\n`,
    );
    throw new Exit(1);
  }
}

async function save(path: string, pf: PasswordFile, io: PasswdIo): Promise<void> {
  try {
    await writePasswordFile(path, pf);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    io.stderr.write(
      `Error: Unable to open file ${path} for writing. ${code === 'ENOENT' ? 'No such file or directory.' : code}\n`,
    );
    throw new Exit(1);
  }
}

export async function passwd(args: string[], io: PasswdIo): Promise<number> {
  try {
    const f = parseFlags(args, io);
    const [file, username, batchPassword] = f.rest as [string, string, string | undefined];
    if (f.upgrade) {
      const pf = await open(file, io, true);
      for (const line of pf.lines)
        if (line.kind === 'plain')
          pf.set(line.username, await hashPassword(line.password, { algorithm: f.algorithm }));
      await save(file, pf, io);
      return 0;
    }
    if (username.includes(':')) {
      io.stderr.write("Error: Username must not contain the ':' character.\n");
      return 1;
    }
    if (f.remove) {
      const pf = await open(file, io);
      if (!pf.delete(username)) {
        io.stderr.write(`Warning: User ${username} not found in password file.\n`);
        return 1;
      }
      await save(file, pf, io);
      return 0;
    }
    // Check the file before asking for a password, so a typo in its name costs no typing.
    const pf = f.create ? new PasswordFile(file) : await open(file, io);
    const password = f.batch ? batchPassword! : await askPassword(io);
    pf.set(username, await hashPassword(password, { algorithm: f.algorithm }));
    await save(file, pf, io);
    return 0;
  } catch (err) {
    if (err instanceof Exit) return err.code;
    throw err;
  }
}

export async function run(args: string[]): Promise<number> {
  return passwd(args, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
}
