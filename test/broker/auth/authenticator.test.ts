import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAuthenticator, describeReload } from '../../../src/broker/auth/authenticator.js';
import { LoginThrottle } from '../../../src/broker/auth/login-throttle.js';
import { hashPassword, PasswordFile, writePasswordFile } from '../../../src/broker/auth/password-file.js';
import type { ConnectAttempt } from '../../../src/broker/auth.js';
import { ErrorCodes, isMothershipError } from '../../../src/errors.js';

let dir: string;
let pwPath: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ms-authn-'));
  pwPath = join(dir, 'pw');
  await writeUsers(pwPath, { alice: 'wonder', bob: 'builder' });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeUsers(path: string, users: Record<string, string>): Promise<void> {
  const pf = new PasswordFile(path);
  for (const [u, p] of Object.entries(users)) pf.set(u, await hashPassword(p));
  await writePasswordFile(path, pf);
}

function attempt(remoteAddress: string, username?: string, password?: string): ConnectAttempt {
  return {
    clientId: 'c',
    username,
    password: password === undefined ? undefined : Buffer.from(password),
    remoteAddress,
    listener: 'mqtt:1883',
  };
}

describe('createAuthenticator', () => {
  it('checks a username against the password file: right in, wrong or unknown or missing password out', async () => {
    const auth = await createAuthenticator({ allowAnonymous: false, passwordFile: pwPath });
    expect(await auth.authenticate(attempt('8.8.8.8', 'alice', 'wonder'))).toEqual({
      ok: true,
      username: 'alice',
    });
    expect(await auth.authenticate(attempt('8.8.4.4', 'alice', 'nope'))).toEqual({
      ok: false,
      reason: 'bad-credentials',
    });
    expect(await auth.authenticate(attempt('8.8.4.5', 'eve', 'wonder'))).toEqual({
      ok: false,
      reason: 'bad-credentials',
    });
    expect(await auth.authenticate(attempt('8.8.4.6', 'alice'))).toEqual({
      ok: false,
      reason: 'bad-credentials',
    });
  });

  it('anonymous clients follow the policy: lan default accepts 192.168.x and refuses public addresses', async () => {
    const lan = await createAuthenticator({ passwordFile: pwPath });
    expect(lan.policy).toBe('lan');
    expect(await lan.authenticate(attempt('192.168.0.6'))).toEqual({ ok: true });
    expect(await lan.authenticate(attempt('::ffff:10.0.0.8'))).toEqual({ ok: true });
    expect(await lan.authenticate(attempt('203.0.113.9'))).toEqual({ ok: false, reason: 'not-authorized' });
    const open = await createAuthenticator({ allowAnonymous: true });
    expect(await open.authenticate(attempt('203.0.113.9'))).toEqual({ ok: true });
    const closed = await createAuthenticator({ allowAnonymous: false, passwordFile: pwPath });
    expect(await closed.authenticate(attempt('127.0.0.1'))).toEqual({ ok: false, reason: 'not-authorized' });
  });

  it('without a password file a username is not verified and the anonymous policy decides (mosquitto 2)', async () => {
    const open = await createAuthenticator({ allowAnonymous: true });
    expect(await open.authenticate(attempt('203.0.113.9', 'anyone', 'x'))).toEqual({
      ok: true,
      username: 'anyone',
    });
    const closed = await createAuthenticator({ allowAnonymous: false });
    expect(await closed.authenticate(attempt('127.0.0.1', 'anyone', 'x'))).toEqual({
      ok: false,
      reason: 'not-authorized',
    });
  });

  it('without an ACL file everything is allowed; with one, its rules apply', async () => {
    const none = await createAuthenticator({});
    expect(none.allows({ clientId: 'c', username: undefined }, 'publish', 'any/thing')).toBe(true);
    const aclPath = join(dir, 'acl-basic');
    await writeFile(aclPath, 'user alice\ntopic write a/#\n');
    const withAcl = await createAuthenticator({ aclFile: aclPath });
    expect(withAcl.allows({ clientId: 'c', username: 'alice' }, 'publish', 'a/1')).toBe(true);
    expect(withAcl.allows({ clientId: 'c', username: 'alice' }, 'read', 'a/1')).toBe(false);
  });

  it('fails with AUTH_FILE_UNREADABLE when the password file is missing', async () => {
    const err = await createAuthenticator({ passwordFile: join(dir, 'missing') }).catch((e: unknown) => e);
    expect(isMothershipError(err, ErrorCodes.AUTH_FILE_UNREADABLE)).toBe(true);
  });
});

describe('reload', () => {
  it('re-reads both files and reports users added, removed, changed and the rule count', async () => {
    const pw = join(dir, 'reload-pw');
    const acl = join(dir, 'reload-acl');
    await writeUsers(pw, { a: '1', b: '2', c: '3' });
    await writeFile(acl, 'user a\ntopic a/#\n');
    const auth = await createAuthenticator({ allowAnonymous: false, passwordFile: pw, aclFile: acl });
    expect((await auth.authenticate(attempt('10.0.0.1', 'b', '2'))).ok).toBe(true);

    await writeUsers(pw, { a: '1', c: 'new', d: '4' });
    await writeFile(acl, 'user a\ntopic a/#\ntopic read b/#\n');
    const summary = await auth.reload();
    expect(summary.usersAdded).toEqual(['d']);
    expect(summary.usersRemoved).toEqual(['b']);
    expect(summary.aclRules).toEqual({ before: 1, after: 2 });
    // All hashes are rewritten with fresh salts, so every kept user shows as changed.
    expect(summary.passwordsChanged).toEqual(['a', 'c']);
    expect(describeReload(summary)).toBe(
      'users: +1 (d), -1 (b), 2 password(s) changed; acl: 2 rules (was 1)',
    );
    expect((await auth.authenticate(attempt('10.0.0.2', 'b', '2'))).ok).toBe(false);
    expect((await auth.authenticate(attempt('10.0.0.3', 'd', '4'))).ok).toBe(true);
    expect(auth.allows({ clientId: 'x', username: 'a' }, 'read', 'b/1')).toBe(true);
  });

  it('keeps the old files in force when the new ones are invalid, and throws naming file:line', async () => {
    const pw = join(dir, 'reload-bad');
    await writeUsers(pw, { a: '1' });
    const auth = await createAuthenticator({ passwordFile: pw });
    await writeFile(pw, 'a:plain\n');
    const err = await auth.reload().catch((e: unknown) => e);
    expect(isMothershipError(err, ErrorCodes.PASSWORD_FILE_INVALID)).toBe(true);
    expect((err as Error).message).toContain(`${pw}:1:`);
    expect((await auth.authenticate(attempt('10.0.0.1', 'a', '1'))).ok).toBe(true);
  });
});

describe('failed-login slowdown', () => {
  const throttle = { initialDelayMs: 60, maxDelayMs: 200 };
  // The throttle's clock is faked (setTimeout and Date only; password hashing stays real), so each
  // wait is checked as "still pending 1 ms before its delay, done at it" whatever the machine's load.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Settles `p` and returns how long (in fake ms) it waited before its attempt ran. */
  async function waited<T>(p: Promise<T>, expectedMs: number): Promise<T> {
    let done = false;
    void p.then(
      () => (done = true),
      () => (done = true),
    );
    if (expectedMs > 0) {
      await vi.advanceTimersByTimeAsync(expectedMs - 1);
      expect(done).toBe(false);
      expect(vi.getTimerCount()).toBe(1); // waiting on the throttle, not on the hash
      await vi.advanceTimersByTimeAsync(1);
    }
    expect(vi.getTimerCount()).toBe(0); // no (further) wait: the attempt itself is running
    return p;
  }

  it('delays the next attempt from an address that failed, growing and capped, reset by success', async () => {
    const auth = await createAuthenticator({ passwordFile: pwPath, throttle });
    const a = (password: string) => auth.authenticate(attempt('198.51.100.7', 'alice', password));
    expect((await waited(a('x'), 0)).ok).toBe(false);
    expect((await waited(a('x'), 60)).ok).toBe(false);
    expect((await waited(a('x'), 120)).ok).toBe(false);
    // Capped at 200 (not 240); the right password still gets in, after the wait.
    expect((await waited(a('wonder'), 200)).ok).toBe(true);
    expect((await waited(a('wonder'), 0)).ok).toBe(true);
  });

  it('does not slow down anyone else while one address is being slowed', async () => {
    const auth = await createAuthenticator({ passwordFile: pwPath, throttle });
    for (let i = 0; i < 2; i++)
      await waited(auth.authenticate(attempt('198.51.100.8', 'bob', 'guess')), i * 60);
    const slowed = auth.authenticate(attempt('198.51.100.8', 'bob', 'builder'));
    // The other address's attempt finishes while the slowed one is still waiting on its timer.
    const other = await auth.authenticate(attempt('198.51.100.9', 'bob', 'builder'));
    expect(other.ok).toBe(true);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(120);
    expect((await slowed).ok).toBe(true);
  });

  it('queues parallel guesses from one address instead of letting them race', async () => {
    const auth = await createAuthenticator({ passwordFile: pwPath, throttle });
    const settled: number[] = [];
    const guesses = [1, 2, 3].map((n) =>
      auth.authenticate(attempt('::ffff:198.51.100.10', 'bob', 'guess')).then(() => settled.push(n)),
    );
    await guesses[0];
    expect(settled).toEqual([1]);
    // The second waits 60 ms after the first failure, the third 120 ms after the second's.
    await vi.advanceTimersByTimeAsync(59);
    expect(settled).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    await guesses[1];
    await vi.advanceTimersByTimeAsync(119);
    expect(settled).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(1);
    await guesses[2];
    expect(settled).toEqual([1, 2, 3]);
  });

  it('treats IPv4 and its IPv4-mapped IPv6 form as one address, and bounds how many it tracks', () => {
    const t = new LoginThrottle({ initialDelayMs: 100, maxDelayMs: 1000, maxAddresses: 2 });
    t.failed('::ffff:203.0.113.1');
    expect(t.delayFor('203.0.113.1')).toBe(100);
    t.failed('203.0.113.2');
    t.failed('203.0.113.3');
    expect(t.size).toBe(2);
    expect(t.delayFor('203.0.113.1')).toBe(0);
  });

  it('forgets failures after a quiet period', () => {
    const t = new LoginThrottle({ initialDelayMs: 100, forgetAfterMs: 1000 });
    t.failed('203.0.113.4', 0);
    t.failed('203.0.113.4', 10);
    expect(t.delayFor('203.0.113.4', 500)).toBe(200);
    expect(t.delayFor('203.0.113.4', 2000)).toBe(0);
  });
});
