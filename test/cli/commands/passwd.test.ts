import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPasswordFile } from '../../../src/broker/auth/password-file.js';
import { passwd } from '../../../src/cli/commands/passwd.js';
import { mosquittoPasswd, type ToolResult } from '../../broker/auth/real-mosquitto.js';
import { runCli } from '../../helpers/cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-passwd-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sink(): Writable & { text: string } {
  const w = new Writable({
    write(chunk, _enc, cb) {
      w.text += chunk.toString();
      cb();
    },
  }) as Writable & { text: string };
  w.text = '';
  return w;
}

async function ours(args: string[], input = ''): Promise<ToolResult> {
  const stdout = sink();
  const stderr = sink();
  const code = await passwd(args, { stdin: Readable.from(input ? [input] : []), stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

let n = 0;
/** A fresh file path, optionally with `content`, and the same for the other tool. */
async function pair(content?: string): Promise<[string, string]> {
  n++;
  const a = join(dir, `ours-${n}`);
  const b = join(dir, `theirs-${n}`);
  if (content !== undefined) {
    await writeFile(a, content);
    await copyFile(a, b);
  }
  return [a, b];
}

describe('files made by each tool verify with the other', () => {
  it('ours -b -c, checked after mosquitto_passwd adds a user to it', async () => {
    const [f] = await pair();
    expect(await ours(['-b', '-c', f, 'board1', 'pa ss'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await mosquittoPasswd(['-b', f, 'board2', 'two'])).code).toBe(0);
    const pf = await readPasswordFile(f);
    expect(await pf.verify('board1', 'pa ss')).toBe(true);
    expect(await pf.verify('board2', 'two')).toBe(true);
  });

  it('theirs -c, updated by ours with -H sha512, keeps their hash intact', async () => {
    const [, f] = await pair();
    await mosquittoPasswd(['-b', '-c', f, 'a', '1']);
    const before = await readFile(f, 'utf8');
    expect((await ours(['-H', 'sha512', '-b', f, 'b', '2'])).code).toBe(0);
    const after = await readFile(f, 'utf8');
    expect(after.startsWith(before)).toBe(true);
    expect(after).toMatch(/\nb:\$6\$/);
    expect(await (await readPasswordFile(f)).verify('b', '2')).toBe(true);
  });

  it('interactive: the password typed twice on stdin, prompts on stdout, as mosquitto_passwd', async () => {
    const [a, b] = await pair('');
    const r1 = await ours([a, 'u'], 'typed pw\ntyped pw\n');
    const r2 = await mosquittoPasswd([b, 'u'], 'typed pw\ntyped pw\n');
    expect(r1).toEqual({ code: r2.code, stdout: r2.stdout, stderr: r2.stderr });
    expect(r1.stdout).toBe('Password: \nReenter password: \n');
    expect(await (await readPasswordFile(a)).verify('u', 'typed pw')).toBe(true);
    expect(await (await readPasswordFile(b)).verify('u', 'typed pw')).toBe(true);
  });
});

describe('same exit codes and messages as mosquitto_passwd', () => {
  const user =
    'alice:$7$101$hkIyDN959y+JDlEp$3rUW/mhsiG7aHVzLbwcCl/L5qLxs+tOi/JhyaVrzrXxOCFvuDShnYyLPnhqDCAELinb8IPf9QNi9GqPEq+/2Uw==\n';
  const cases: { name: string; args: (f: string) => string[]; content?: string; input?: string }[] = [
    { name: 'no arguments', args: () => [] },
    { name: '-b with too few arguments', args: (f) => ['-b', f, 'u'] },
    { name: 'password without -b', args: (f) => [f, 'u', 'p'] },
    { name: 'unknown flag', args: (f) => ['-x', f, 'u'] },
    { name: '-c and -D together', args: (f) => ['-c', '-D', f, 'u'] },
    { name: '-b and -D together', args: (f) => ['-D', '-b', f, 'u', 'p'] },
    { name: '-c without username', args: (f) => ['-c', f] },
    { name: '-c -b without password', args: (f) => ['-c', '-b', f, 'u'] },
    { name: '-D without username', args: (f) => ['-D', f] },
    { name: '-U without file', args: () => ['-U'] },
    { name: '-H without value', args: () => ['-H'] },
    { name: 'unknown hash', args: (f) => ['-H', 'md5', '-b', f, 'u', 'p'] },
    { name: "':' in username", args: (f) => ['-b', f, 'a:b', 'p'], content: user },
    { name: 'missing file', args: (f) => ['-b', `${f}-missing`, 'u', 'p'] },
    { name: '-D missing file', args: (f) => ['-D', `${f}-missing`, 'u'] },
    { name: '-U missing file', args: (f) => ['-U', `${f}-missing`] },
    { name: '-D unknown user', args: (f) => ['-D', f, 'nobody'], content: user },
    { name: '-D existing user', args: (f) => ['-D', f, 'alice'], content: user },
    { name: 'interactive, passwords differ', args: (f) => [f, 'u'], content: user, input: 'one\ntwo\n' },
    { name: 'interactive, empty password', args: (f) => [f, 'u'], content: user, input: '\n\n' },
    { name: 'interactive, stdin closed', args: (f) => [f, 'u'], content: user, input: '' },
    { name: '-c into a missing folder', args: (f) => ['-b', '-c', `${f}/no/such`, 'u', 'p'] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const [a, b] = await pair(c.content);
      const mine = await ours(c.args(a), c.input);
      const theirs = await mosquittoPasswd(c.args(b), c.input);
      expect(mine.code).toBe(theirs.code);
      expect(mine.stderr.replaceAll(a, 'FILE')).toBe(theirs.stderr.replaceAll(b, 'FILE'));
      // Usage goes to stdout in both, naming each tool.
      expect(mine.stdout === '').toBe(theirs.stdout === '');
      expect(mine.stdout.replaceAll('mothership passwd', 'mosquitto_passwd')).toContain(
        theirs.stdout
          .split('\n\nSee https')[0]!
          .replace('mosquitto_passwd is a tool for managing password files for mosquitto.', ''),
      );
      if (c.content !== undefined && mine.code === 0)
        expect((await readPasswordFile(a)).usernames()).toEqual((await readPasswordFile(b)).usernames());
    });
  }
});

describe('-U upgrades plain user:password lines', () => {
  it('to hashes that verify, like mosquitto_passwd -U', async () => {
    const [a, b] = await pair('u1:p1\nu2:p 2\n');
    expect((await ours(['-U', a])).code).toBe(0);
    expect((await mosquittoPasswd(['-U', b])).code).toBe(0);
    for (const f of [a, b]) {
      const pf = await readPasswordFile(f);
      expect(await pf.verify('u1', 'p1')).toBe(true);
      expect(await pf.verify('u2', 'p 2')).toBe(true);
    }
  });

  it('leaves lines that are already hashed alone (mosquitto_passwd would hash the hash)', async () => {
    const [a] = await pair('u1:p1\n');
    await ours(['-U', a]);
    const once = await readFile(a, 'utf8');
    expect((await ours(['-U', a])).code).toBe(0);
    expect(await readFile(a, 'utf8')).toBe(once);
  });
});

describe('where we deliberately differ', () => {
  it('a file with a comment is updated and keeps the comment (mosquitto_passwd truncates it)', async () => {
    const [a] = await pair(
      '# boards\nalice:$7$101$hkIyDN959y+JDlEp$3rUW/mhsiG7aHVzLbwcCl/L5qLxs+tOi/JhyaVrzrXxOCFvuDShnYyLPnhqDCAELinb8IPf9QNi9GqPEq+/2Uw==\n',
    );
    expect((await ours(['-b', a, 'bob', 'x'])).code).toBe(0);
    const text = await readFile(a, 'utf8');
    expect(text).toMatch(/^# boards\nalice:\$7\$.*\nbob:\$7\$101\$/s);
  });

  it('a corrupt line stops the command with file:line, and the file is left untouched', async () => {
    const [a] = await pair('alice\n');
    const r = await ours(['-b', a, 'bob', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `Error: ${a}:1: no ':' between username and password hash; expected 'username:$7$<iterations>$<salt>$<hash>' as written by 'mothership passwd' or mosquitto_passwd\n`,
    );
    expect(await readFile(a, 'utf8')).toBe('alice\n');
  });
});

describe('mothership passwd from the command line', () => {
  it('is registered in the CLI and writes a file the other tool accepts', async () => {
    const f = join(dir, 'cli');
    const r = await runCli(['passwd', '-b', '-c', f, 'board', 'secret']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect((await mosquittoPasswd(['-b', f, 'other', 'x'])).code).toBe(0);
    expect(await (await readPasswordFile(f)).verify('board', 'secret')).toBe(true);
  }, 60_000);
});
