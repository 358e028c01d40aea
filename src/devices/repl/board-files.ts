/**
 * The board's filesystem through the raw REPL: list, read, remove, hash and write files. A write goes
 * to `<name>.part` and is renamed over the file only once complete and verified, so a line that goes
 * away mid-transfer leaves the old file (an old main.py still boots), never half of a new one.
 */
import { createHash } from 'node:crypto';
import { ErrorCodes, MothershipError } from '../../errors.js';
import type { RawRepl } from './raw-repl.js';

/** Bytes of file content per command: small enough for a plain raw REPL, large enough to be quick. */
const PUT_CHUNK = 1024;

export interface BoardEntry {
  name: string;
  dir: boolean;
  size: number;
}

/** A Python literal of a string (quotes and backslashes escaped; JSON's escapes are Python's too). */
const pyStr = (s: string) => JSON.stringify(s);

/** A Python bytes literal: printable ASCII as is, everything else \xNN (no control byte reaches the REPL). */
export function pyBytes(b: Uint8Array): string {
  let s = "b'";
  for (const c of b) {
    if (c >= 0x20 && c < 0x7f && c !== 0x27 && c !== 0x5c) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `${s}'`;
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A marker no program's output contains, around what a command returns. */
const MARK = '@@ms@@';
const between = (out: Buffer): string => {
  const s = out.toString('utf8');
  const a = s.indexOf(MARK);
  const b = s.lastIndexOf(MARK);
  if (a < 0 || b <= a)
    throw new MothershipError(ErrorCodes.RAW_REPL_FAILED, `unexpected answer: ${s.slice(0, 200)}`);
  return s.slice(a + MARK.length, b);
};

export class BoardFiles {
  /** Whether the board has hashlib.sha256 (undefined until asked). */
  private hashlib: boolean | undefined;

  constructor(readonly repl: RawRepl) {}

  private async value(code: string, expr: string): Promise<string> {
    return between(await this.repl.run(`${code}\nprint(${pyStr(MARK)}+str(${expr})+${pyStr(MARK)})`));
  }

  async ls(dir = '/'): Promise<BoardEntry[]> {
    const text = await this.value(
      `import os\n_r=[]\nfor _e in os.ilistdir(${pyStr(dir)}):\n _r.append((_e[0],_e[1]==0x4000,_e[3] if len(_e)>3 else 0))`,
      '_r',
    );
    // a list of (name, dir, size) tuples as Python prints it: names through JSON after quote swapping
    const entries: BoardEntry[] = [];
    for (const m of text.matchAll(/\('((?:[^'\\]|\\.)*)', (True|False), (\d+)\)/g))
      entries.push({ name: m[1]!.replace(/\\(.)/g, '$1'), dir: m[2] === 'True', size: Number(m[3]) });
    return entries.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The file's bytes, or null if there is no such file. */
  async cat(path: string): Promise<Buffer | null> {
    const hex = await this.value(
      `import binascii\ntry:\n _f=open(${pyStr(path)},'rb')\nexcept OSError:\n _f=None\n_h=[]\nwhile _f:\n _b=_f.read(256)\n if not _b:\n  _f.close()\n  break\n _h.append(binascii.hexlify(_b).decode())`,
      "'-' if _f is None and not _h else ''.join(_h)",
    );
    return hex === '-' ? null : Buffer.from(hex, 'hex');
  }

  /** Removes a file; false if there was none. */
  async rm(path: string): Promise<boolean> {
    const r = await this.value(
      `import os\ntry:\n os.remove(${pyStr(path)})\n _ok=1\nexcept OSError:\n _ok=0`,
      '_ok',
    );
    return r === '1';
  }

  /** sha256 of the file on the board (hex), or null if there is no such file. */
  async hash(path: string): Promise<string | null> {
    if (this.hashlib === undefined)
      this.hashlib =
        (await this.value(
          'try:\n import hashlib\n _ok=hasattr(hashlib,"sha256")\nexcept ImportError:\n _ok=False',
          '_ok',
        )) === 'True';
    if (!this.hashlib) {
      // no hashlib in this build: read it back and hash it here
      const b = await this.cat(path);
      return b === null ? null : sha256(b);
    }
    const r = await this.value(
      `import hashlib, binascii\ntry:\n _f=open(${pyStr(path)},'rb')\nexcept OSError:\n _f=None\n_d='-'\nif _f:\n _s=hashlib.sha256()\n while True:\n  _b=_f.read(512)\n  if not _b:\n   break\n  _s.update(_b)\n _f.close()\n _d=binascii.hexlify(_s.digest()).decode()`,
      '_d',
    );
    return r === '-' ? null : r;
  }

  /** Creates the folders of a path that are missing. */
  async mkdirs(dir: string): Promise<void> {
    const parts = dir.split('/').filter(Boolean);
    if (!parts.length) return;
    await this.repl.run(
      `import os\n_p=''\nfor _d in ${JSON.stringify(parts)}:\n _p+='/'+_d\n try:\n  os.mkdir(_p)\n except OSError:\n  pass`,
    );
  }

  /**
   * Writes a file: to `<path>.part`, checked by hash, then renamed over `path`. onBytes(n) after
   * each piece sent.
   */
  async put(path: string, data: Uint8Array, onBytes?: (n: number) => void): Promise<void> {
    const slash = path.lastIndexOf('/');
    if (slash > 0) await this.mkdirs(path.slice(0, slash));
    const part = `${path}.part`;
    await this.repl.run(`_f=open(${pyStr(part)},'wb')\n_w=_f.write`);
    for (let off = 0; off < data.length; off += PUT_CHUNK) {
      const piece = data.subarray(off, off + PUT_CHUNK);
      await this.repl.run(`_w(${pyBytes(piece)})`);
      onBytes?.(piece.length);
    }
    await this.repl.run('_f.close()');
    const got = await this.hash(part);
    if (got !== sha256(data))
      throw new MothershipError(
        ErrorCodes.BOARD_VERIFY_FAILED,
        `${path} did not read back as sent (sha256 ${got} on the board); the old ${path} is untouched`,
      );
    // littlefs (the ESP32's default filesystem) replaces the file in one step; MicroPython's FAT
    // driver removes the old one first, leaving one operation's worth of time without it
    await this.repl.run(`import os\nos.rename(${pyStr(part)},${pyStr(path)})`);
  }
}
