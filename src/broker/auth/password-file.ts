/**
 * mosquitto_passwd password files: one `username:hash` per line, where the hash is
 * `$7$<iterations>$<base64 salt>$<base64 PBKDF2-SHA512>` (mosquitto 2's default) or the older
 * `$6$<base64 salt>$<base64 SHA-512(password + salt)>` (mosquitto 1.x). Comment (`#`) and blank
 * lines are kept as they are, so a file we rewrite keeps its notes.
 */
import { createHash, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCodes, MothershipError } from '../../errors.js';
import { readTextFile } from '../../read-file.js';

const pbkdf2Async = promisify(pbkdf2);

/** mosquitto_passwd's defaults: 101 PBKDF2 iterations, a 12-byte salt, a 64-byte SHA-512 digest. */
export const DEFAULT_ITERATIONS = 101;
const SALT_BYTES = 12;
const HASH_BYTES = 64;

export type PasswordHash =
  | { algorithm: 'sha512-pbkdf2'; iterations: number; salt: Buffer; hash: Buffer }
  | { algorithm: 'sha512'; salt: Buffer; hash: Buffer };

export type PasswordAlgorithm = PasswordHash['algorithm'];

export type PasswordFileLine =
  | { kind: 'user'; username: string; hash: PasswordHash }
  /** Only when parsed with `allowPlain` (the input of `passwd -U`): a password not hashed yet. */
  | { kind: 'plain'; username: string; password: string }
  | { kind: 'other'; text: string };

/** Strict base64 (mosquitto writes standard alphabet with padding); undefined when not base64. */
function decodeBase64(text: string): Buffer | undefined {
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/** Parses the part after `username:`; undefined when it is not a `$6$`/`$7$` hash. */
export function parsePasswordHash(text: string): PasswordHash | undefined {
  const parts = text.split('$');
  // '$7$101$salt$hash' splits into ['', '7', '101', 'salt', 'hash'].
  if (parts[0] !== '') return undefined;
  if (parts[1] === '7' && parts.length === 5) {
    if (!/^[1-9][0-9]{0,9}$/.test(parts[2]!)) return undefined;
    const iterations = Number(parts[2]);
    const salt = decodeBase64(parts[3]!);
    const hash = decodeBase64(parts[4]!);
    if (!salt || hash?.length !== HASH_BYTES || iterations > 2 ** 31 - 1) return undefined;
    return { algorithm: 'sha512-pbkdf2', iterations, salt, hash };
  }
  if (parts[1] === '6' && parts.length === 4) {
    const salt = decodeBase64(parts[2]!);
    const hash = decodeBase64(parts[3]!);
    if (!salt || hash?.length !== HASH_BYTES) return undefined;
    return { algorithm: 'sha512', salt, hash };
  }
  return undefined;
}

export function formatPasswordHash(h: PasswordHash): string {
  return h.algorithm === 'sha512-pbkdf2'
    ? `$7$${h.iterations}$${h.salt.toString('base64')}$${h.hash.toString('base64')}`
    : `$6$${h.salt.toString('base64')}$${h.hash.toString('base64')}`;
}

async function digest(
  algorithm: PasswordAlgorithm,
  password: Buffer,
  salt: Buffer,
  iterations: number,
): Promise<Buffer> {
  if (algorithm === 'sha512') return createHash('sha512').update(password).update(salt).digest();
  return pbkdf2Async(password, salt, iterations, HASH_BYTES, 'sha512');
}

export async function hashPassword(
  password: string | Buffer,
  options: { algorithm?: PasswordAlgorithm; iterations?: number } = {},
): Promise<PasswordHash> {
  const algorithm = options.algorithm ?? 'sha512-pbkdf2';
  const iterations = options.iterations ?? DEFAULT_ITERATIONS;
  const salt = randomBytes(SALT_BYTES);
  const pw = Buffer.from(password);
  const hash = await digest(algorithm, pw, salt, iterations);
  return algorithm === 'sha512' ? { algorithm, salt, hash } : { algorithm, iterations, salt, hash };
}

export async function verifyPassword(stored: PasswordHash, password: string | Buffer): Promise<boolean> {
  const iterations = stored.algorithm === 'sha512-pbkdf2' ? stored.iterations : 0;
  const candidate = await digest(stored.algorithm, Buffer.from(password), stored.salt, iterations);
  return timingSafeEqual(candidate, stored.hash);
}

function invalid(file: string, line: number, why: string): MothershipError {
  return new MothershipError(
    ErrorCodes.PASSWORD_FILE_INVALID,
    `${file}:${line}: ${why}; expected 'username:$7$<iterations>$<salt>$<hash>' as written by 'mothership passwd' or mosquitto_passwd`,
  );
}

export class PasswordFile {
  constructor(
    /** Shown in error messages. */
    readonly file: string,
    readonly lines: PasswordFileLine[] = [],
  ) {}

  usernames(): string[] {
    return this.lines.flatMap((l) => (l.kind === 'other' ? [] : [l.username]));
  }

  get(username: string): PasswordHash | undefined {
    const line = this.lines.find((l) => l.kind === 'user' && l.username === username);
    return line?.kind === 'user' ? line.hash : undefined;
  }

  has(username: string): boolean {
    return this.lines.some((l) => l.kind !== 'other' && l.username === username);
  }

  /** Replaces the user's hash in place, or appends the user. */
  set(username: string, hash: PasswordHash): void {
    const i = this.lines.findIndex((l) => l.kind !== 'other' && l.username === username);
    const line: PasswordFileLine = { kind: 'user', username, hash };
    if (i >= 0) this.lines[i] = line;
    else this.lines.push(line);
  }

  /** Removes the user; false when it was not there. */
  delete(username: string): boolean {
    const i = this.lines.findIndex((l) => l.kind !== 'other' && l.username === username);
    if (i < 0) return false;
    this.lines.splice(i, 1);
    return true;
  }

  /**
   * True when `username` is in the file and `password` matches. An unknown user still costs one
   * hash so that response time does not reveal which usernames exist.
   */
  async verify(username: string, password: string | Buffer): Promise<boolean> {
    const stored = this.get(username);
    if (!stored) {
      await verifyPassword(decoyHash, password);
      return false;
    }
    return verifyPassword(stored, password);
  }

  toString(): string {
    return this.lines
      .map((l) =>
        l.kind === 'user'
          ? `${l.username}:${formatPasswordHash(l.hash)}`
          : l.kind === 'plain'
            ? `${l.username}:${l.password}`
            : l.text,
      )
      .map((l) => `${l}\n`)
      .join('');
  }
}

const decoyHash: PasswordHash = {
  algorithm: 'sha512-pbkdf2',
  iterations: DEFAULT_ITERATIONS,
  salt: Buffer.alloc(SALT_BYTES),
  hash: Buffer.alloc(HASH_BYTES),
};

/**
 * Parses a password file. `allowPlain` accepts `username:password` lines (for `passwd -U`);
 * otherwise every user line must carry a `$6$`/`$7$` hash, as mosquitto 2 requires.
 */
export function parsePasswordFile(
  text: string,
  file: string,
  options: { allowPlain?: boolean } = {},
): PasswordFile {
  const lines: PasswordFileLine[] = [];
  const seen = new Set<string>();
  const raw = text.split('\n');
  if (raw.at(-1) === '') raw.pop();
  raw.forEach((rawLine, i) => {
    const lineNo = i + 1;
    const line = rawLine.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) {
      lines.push({ kind: 'other', text: line });
      return;
    }
    const colon = line.indexOf(':');
    if (colon < 0) throw invalid(file, lineNo, "no ':' between username and password hash");
    const username = line.slice(0, colon);
    const rest = line.slice(colon + 1).trim();
    if (username.length === 0) throw invalid(file, lineNo, 'empty username');
    if (seen.has(username)) throw invalid(file, lineNo, `user '${username}' appears twice`);
    seen.add(username);
    const hash = parsePasswordHash(rest);
    if (hash) lines.push({ kind: 'user', username, hash });
    else if (options.allowPlain && rest.length > 0) lines.push({ kind: 'plain', username, password: rest });
    else throw invalid(file, lineNo, `the password of '${username}' is not a $6$ or $7$ hash`);
  });
  return new PasswordFile(file, lines);
}

export async function readPasswordFile(
  path: string,
  options: { allowPlain?: boolean } = {},
): Promise<PasswordFile> {
  const text = await readTextFile(path, 'password file', ErrorCodes.AUTH_FILE_UNREADABLE);
  return parsePasswordFile(text, path, options);
}

/** Writes through a temporary file and a rename, so a crash never leaves a half-written file. */
export async function writePasswordFile(path: string, pf: PasswordFile): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  await writeFile(tmp, pf.toString(), { mode: 0o600 });
  await rename(tmp, path);
}
