import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, hubUp, passwordFile, post, scratch } from './helpers.js';

afterAll(cleanup);

/** A broker with passwords and an ACL: alice reads sensors/#, writes output; root administers. */
async function securedHub() {
  const dir = await scratch();
  const passwd = await passwordFile(dir, { alice: 'wonderland', root: 'toor' });
  const acl = join(dir, 'acl');
  await writeFile(
    acl,
    'user alice\ntopic read sensors/#\ntopic write output\n\nuser root\ntopic readwrite #\ntopic write $hub/admin\n',
  );
  const hub = await hubUp(
    `listener 0 127.0.0.1\nlistener 0 127.0.0.1\nprotocol websockets\nallow_anonymous false\npassword_file ${passwd}\nacl_file ${acl}\n`,
  );
  return hub;
}

async function login(base: string, username: string, password: string): Promise<Response> {
  return post(`${base}/api/login`, { username, password });
}

function cookieOf(res: Response): string {
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

describe('the hub API follows the MQTT rules exactly', () => {
  it('with allow_anonymous false, nothing is readable before a login; a wrong password is refused', async () => {
    const { base } = await securedHub();
    const anon = await fetch(`${base}/api/devices`);
    expect(anon.status).toBe(401);
    expect(((await anon.json()) as { error: { code: string } }).error.code).toBe('MS_HUB_LOGIN_REQUIRED');
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await login(base, 'alice', 'nope')).status).toBe(401);
    const ok = await login(base, 'alice', 'wonderland');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('set-cookie')).toMatch(
      /^mothership_session=[^;]+; HttpOnly; SameSite=Strict; Path=\//,
    );
    const me = await fetch(`${base}/api/me`, { headers: { cookie: cookieOf(ok) } });
    expect(await me.json()).toEqual({ username: 'alice', loggedIn: true, admin: false });
  }, 30_000);

  it('the ACL decides: alice publishes to output but not elsewhere, and sees only what she may read', async () => {
    const { base, mqttUrl } = await securedHub();
    const root = await mqtt.connectAsync(mqttUrl, { username: 'root', password: 'toor', reconnectPeriod: 0 });
    await root.publishAsync('sensors/t', '21', { qos: 1, retain: true });
    await root.publishAsync('secret/x', '1', { qos: 1, retain: true });
    const cookie = cookieOf(await login(base, 'alice', 'wonderland'));
    const as = { cookie };
    expect((await post(`${base}/api/publish`, { topic: 'output', payload: 'on' }, as)).status).toBe(200);
    const refused = await post(`${base}/api/publish`, { topic: 'sensors/t', payload: '99' }, as);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('MS_HUB_FORBIDDEN');
    const found = (await (await fetch(`${base}/api/topics/search?q=/`, { headers: as })).json()) as {
      topics: { topic: string }[];
    };
    expect(found.topics.map((t) => t.topic)).toEqual(['sensors/t']);
    // Administration needs write on $hub/admin, which alice lacks and root has.
    expect((await fetch(`${base}/api/clients`, { headers: as })).status).toBe(403);
    expect((await post(`${base}/api/retained/clear`, { filter: '#', confirm: true }, as)).status).toBe(403);
    const rootCookie = cookieOf(await login(base, 'root', 'toor'));
    expect((await fetch(`${base}/api/clients`, { headers: { cookie: rootCookie } })).status).toBe(200);
    // Logged out: the cookie is worthless.
    await post(`${base}/api/logout`, {}, as);
    expect((await fetch(`${base}/api/devices`, { headers: as })).status).toBe(401);
    await root.endAsync();
  }, 30_000);
});
