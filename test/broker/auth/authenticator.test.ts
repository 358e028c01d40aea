import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  async function timed<T>(p: Promise<T>): Promise<[T, number]> {
    const start = performance.now();
    const r = await p;
    return [r, performance.now() - start];
  }

  it('delays the next attempt from an address that failed, growing and capped, reset by success', async () => {
    const auth = await createAuthenticator({ passwordFile: pwPath, throttle });
    const [, first] = await timed(auth.authenticate(attempt('198.51.100.7', 'alice', 'x')));
    expect(first).toBeLessThan(50);
    const [, second] = await timed(auth.authenticate(attempt('198.51.100.7', 'alice', 'x')));
    expect(second).toBeGreaterThanOrEqual(55);
    const [, third] = await timed(auth.authenticate(attempt('198.51.100.7', 'alice', 'x')));
    expect(third).toBeGreaterThanOrEqual(115);
    const [ok, fourth] = await timed(auth.authenticate(attempt('198.51.100.7', 'alice', 'wonder')));
    expect(ok.ok).toBe(true); // the right password still gets in, after the wait
    expect(fourth).toBeGreaterThanOrEqual(195);
    expect(fourth).toBeLessThan(400);
    const [, after] = await timed(auth.authenticate(attempt('198.51.100.7', 'alice', 'wonder')));
    expect(after).toBeLessThan(50);
  });

  it('does not slow down anyone else while one address is being slowed', async () => {
    const auth = await createAuthenticator({ passwordFile: pwPath, throttle });
    for (let i = 0; i < 3; i++) await auth.authenticate(attempt('198.51.100.8', 'bob', 'guess'));
    const [r, ms] = await timed(auth.authenticate(attempt('198.51.100.9', 'bob', 'builder')));
    expect(r.ok).toBe(true);
    expect(ms).toBeLessThan(50);
  });

  it('queues parallel guesses from one address instead of letting them race', async () => {
    const auth = await createAuthenticator({ passwordFile: pwPath, throttle });
    const [, ms] = await timed(
      Promise.all([1, 2, 3].map(() => auth.authenticate(attempt('::ffff:198.51.100.10', 'bob', 'guess')))),
    );
    expect(ms).toBeGreaterThanOrEqual(60 + 120 - 10);
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
