import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_ITERATIONS,
  hashPassword,
  PasswordFile,
  parsePasswordFile,
  readPasswordFile,
  verifyPassword,
  writePasswordFile,
} from '../../../src/broker/auth/password-file.js';
import { ErrorCodes, isMothershipError } from '../../../src/errors.js';
import { mosquittoPasswd, startMosquitto, tryConnect } from './real-mosquitto.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-pwfile-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('password files written by Debian mosquitto_passwd', () => {
  it('verifies a $7$ (PBKDF2-SHA512) entry and rejects a wrong password', async () => {
    const file = join(dir, 'pbkdf2');
    expect((await mosquittoPasswd(['-b', '-c', file, 'alice', 's3cret pass'])).code).toBe(0);
    const pf = await readPasswordFile(file);
    const hash = pf.get('alice');
    expect(hash?.algorithm).toBe('sha512-pbkdf2');
    expect(await pf.verify('alice', 's3cret pass')).toBe(true);
    expect(await pf.verify('alice', 's3cret pasS')).toBe(false);
    expect(await pf.verify('bob', 's3cret pass')).toBe(false);
  });

  it('verifies an older $6$ (salted SHA-512) entry made with -H sha512', async () => {
    const file = join(dir, 'sha512');
    expect((await mosquittoPasswd(['-H', 'sha512', '-b', '-c', file, 'bob', 'hunter2'])).code).toBe(0);
    const pf = await readPasswordFile(file);
    expect(pf.get('bob')?.algorithm).toBe('sha512');
    expect(await pf.verify('bob', 'hunter2')).toBe(true);
    expect(await pf.verify('bob', 'hunter3')).toBe(false);
  });

  it('round-trips a mosquitto_passwd file byte for byte', async () => {
    const file = join(dir, 'roundtrip');
    await mosquittoPasswd(['-b', '-c', file, 'a', '1']);
    await mosquittoPasswd(['-H', 'sha512', '-b', file, 'b', '2']);
    const text = await readFile(file, 'utf8');
    expect(parsePasswordFile(text, file).toString()).toBe(text);
  });
});

describe('hashes we write', () => {
  it('are $7$ with 101 iterations, a 12-byte salt and a 64-byte digest, and verify', async () => {
    const h = await hashPassword('pw');
    expect(h).toMatchObject({ algorithm: 'sha512-pbkdf2', iterations: DEFAULT_ITERATIONS });
    expect(h.salt.length).toBe(12);
    expect(h.hash.length).toBe(64);
    expect(await verifyPassword(h, 'pw')).toBe(true);
    expect(await verifyPassword(h, Buffer.from('pw'))).toBe(true);
    expect(await verifyPassword(h, 'pW')).toBe(false);
  });

  it('use a fresh salt each time', async () => {
    const [a, b] = await Promise.all([hashPassword('same'), hashPassword('same')]);
    expect(a.salt.equals(b.salt)).toBe(false);
  });

  it('are accepted by the real mosquitto broker (right password in, wrong one and unknown user out)', async () => {
    const file = join(dir, 'ours');
    const pf = new PasswordFile(file);
    pf.set('board1', await hashPassword('b0ard'));
    pf.set('legacy', await hashPassword('old', { algorithm: 'sha512' }));
    await writePasswordFile(file, pf);
    const broker = await startMosquitto(dir, ['allow_anonymous false', `password_file ${file}`]);
    try {
      const good = await tryConnect(broker.port, { clientId: 'g', username: 'board1', password: 'b0ard' });
      expect(good.ok).toBe(true);
      if (good.ok) good.client.end(true);
      const legacy = await tryConnect(broker.port, { clientId: 'l', username: 'legacy', password: 'old' });
      expect(legacy.ok).toBe(true);
      if (legacy.ok) legacy.client.end(true);
      const bad = await tryConnect(broker.port, { clientId: 'b', username: 'board1', password: 'nope' });
      expect(bad).toEqual({ ok: false, returnCode: 5 });
      const unknown = await tryConnect(broker.port, { clientId: 'u', username: 'ghost', password: 'b0ard' });
      expect(unknown.ok).toBe(false);
    } finally {
      await broker.stop();
    }
  });

  it('are accepted by Debian mosquitto_passwd when it updates the file', async () => {
    const file = join(dir, 'ours-then-theirs');
    const pf = new PasswordFile(file);
    pf.set('x', await hashPassword('1'));
    await writePasswordFile(file, pf);
    const r = await mosquittoPasswd(['-b', file, 'y', '2']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const after = await readPasswordFile(file);
    expect(after.usernames()).toEqual(['x', 'y']);
    expect(await after.verify('x', '1')).toBe(true);
  });
});

describe('invalid password files', () => {
  it('name file:line and the accepted form for a line without a colon', () => {
    const err = thrown(() => parsePasswordFile('# users\nalice\n', 'pw.txt'));
    expect(isMothershipError(err, ErrorCodes.PASSWORD_FILE_INVALID)).toBe(true);
    expect((err as Error).message).toMatch(/^pw\.txt:2: .*expected 'username:\$7\$/);
  });

  it('reject a plain-text password (mosquitto 2 refuses them too) unless allowPlain', () => {
    const err = thrown(() => parsePasswordFile('alice:secret\n', 'pw'));
    expect((err as Error).message).toMatch(/^pw:1: the password of 'alice' is not a \$6\$ or \$7\$ hash/);
    const plain = parsePasswordFile('alice:secret\n', 'pw', { allowPlain: true });
    expect(plain.lines[0]).toEqual({ kind: 'plain', username: 'alice', password: 'secret' });
  });

  it('reject a corrupt hash, an empty username and a duplicate user', () => {
    for (const [text, why] of [
      ['a:$7$101$!!!$abc\n', /not a \$6\$ or \$7\$ hash/],
      ['a:$7$0$AAAA$AAAA\n', /not a \$6\$ or \$7\$ hash/],
      [':$6$AAAA$AAAA\n', /empty username/],
    ] as const) {
      expect((thrown(() => parsePasswordFile(text, 'f')) as Error).message).toMatch(why);
    }
    const line = `a:$6$${Buffer.alloc(12).toString('base64')}$${Buffer.alloc(64).toString('base64')}`;
    expect((thrown(() => parsePasswordFile(`${line}\n${line}\n`, 'f')) as Error).message).toMatch(
      /^f:2: user 'a' appears twice/,
    );
  });

  it('keeps comments and blank lines when rewritten', async () => {
    const h = await hashPassword('p');
    const pf = parsePasswordFile('# boards\n\n', 'f');
    pf.set('b', h);
    expect(pf.toString()).toMatch(/^# boards\n\nb:\$7\$101\$/);
  });

  it('a missing file is AUTH_FILE_UNREADABLE naming the path', async () => {
    const err = await readPasswordFile(join(dir, 'nope')).catch((e: unknown) => e);
    expect(isMothershipError(err, ErrorCodes.AUTH_FILE_UNREADABLE)).toBe(true);
    expect((err as Error).message).toContain('nope: no such file');
  });
});

describe('PasswordFile edits', () => {
  it('set replaces in place, delete removes and reports absence', async () => {
    const pf = new PasswordFile('f');
    pf.set('a', await hashPassword('1'));
    pf.set('b', await hashPassword('2'));
    pf.set('a', await hashPassword('3'));
    expect(pf.usernames()).toEqual(['a', 'b']);
    expect(await pf.verify('a', '3')).toBe(true);
    expect(pf.delete('a')).toBe(true);
    expect(pf.delete('a')).toBe(false);
    expect(pf.usernames()).toEqual(['b']);
    await writeFile(join(dir, 'edits'), pf.toString());
    expect((await readPasswordFile(join(dir, 'edits'))).usernames()).toEqual(['b']);
  });
});
