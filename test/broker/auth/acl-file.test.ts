import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAclFile, readAclFile } from '../../../src/broker/auth/acl-file.js';
import { ErrorCodes, isMothershipError } from '../../../src/errors.js';
import { mosquittoPasswd, startMosquitto, tryConnect } from './real-mosquitto.js';

const ACL = `# anonymous clients
topic read public/#
topic readwrite anon/rw

user alice
topic readwrite a/#
topic deny a/secret
topic write a/in/only
topic read sensors/+/temp
topic readwrite spaced topic/x

user bob
topic b/#
topic deny a/#

user admin
topic readwrite #

pattern read dev/%c/cmd
pattern write dev/%c/status
pattern readwrite users/%u/#
pattern read x-%c/y
pattern deny sensors/%u/#
`;

const acl = parseAclFile(ACL, 'test.acl');
const anon = (clientId: string) => ({ clientId, username: undefined });
const user = (username: string, clientId = `${username}-c`) => ({ clientId, username });

describe('ACL rules', () => {
  it('topic lines before any user line apply to anonymous clients only', () => {
    expect(acl.allows(anon('x'), 'read', 'public/news')).toBe(true);
    expect(acl.allows(anon('x'), 'publish', 'public/news')).toBe(false);
    expect(acl.allows(user('alice'), 'read', 'public/news')).toBe(false);
  });

  it('deny wins over a broader grant in the same block, whatever the order', () => {
    expect(acl.allows(user('alice'), 'read', 'a/x')).toBe(true);
    expect(acl.allows(user('alice'), 'read', 'a/secret')).toBe(false);
    expect(acl.allows(user('alice'), 'publish', 'a/secret')).toBe(false);
    expect(acl.allows(user('bob'), 'read', 'a/x')).toBe(false);
  });

  it('a topic without an access word is readwrite; read and write are one way', () => {
    expect(acl.allows(user('bob'), 'publish', 'b/q')).toBe(true);
    expect(acl.allows(user('bob'), 'read', 'b/q')).toBe(true);
    expect(acl.allows(user('alice'), 'read', 'sensors/k/temp')).toBe(true);
    expect(acl.allows(user('alice'), 'publish', 'sensors/k/temp')).toBe(false);
  });

  it('patterns substitute %c and %u and apply to everyone, anonymous included for %c', () => {
    expect(acl.allows(user('bob', 'board7'), 'read', 'dev/board7/cmd')).toBe(true);
    expect(acl.allows(user('bob', 'board7'), 'read', 'dev/board8/cmd')).toBe(false);
    expect(acl.allows(anon('board9'), 'read', 'dev/board9/cmd')).toBe(true);
    expect(acl.allows(anon('board9'), 'publish', 'dev/board9/status')).toBe(true);
    expect(acl.allows(user('carol'), 'read', 'users/carol/inbox')).toBe(true);
    expect(acl.allows(user('carol'), 'read', 'users/dave/inbox')).toBe(false);
  });

  it('%c is substituted inside a level too (x-%c/y), as mosquitto 2.0 does', () => {
    expect(acl.allows(anon('k'), 'read', 'x-k/y')).toBe(true);
    expect(acl.allows(anon('k'), 'read', 'x-j/y')).toBe(false);
  });

  it('a %u pattern never applies to an anonymous client', () => {
    expect(acl.allows(anon('c'), 'read', 'users//inbox')).toBe(false);
  });

  it("a user's own grants are checked before pattern denials (mosquitto order)", () => {
    expect(acl.allows(user('alice'), 'read', 'sensors/alice/temp')).toBe(true);
    expect(acl.allows(user('alice'), 'publish', 'sensors/alice/x')).toBe(false);
  });

  it('usernames or client ids holding + or # get nothing from patterns', () => {
    expect(acl.allows(user('w+x', 'wc'), 'read', 'dev/wc/cmd')).toBe(false);
    expect(acl.allows(user('alice', 'a#2'), 'read', 'users/alice/q')).toBe(false);
  });

  it('a client with no matching rule is denied; SUBSCRIBE itself is always allowed (mosquitto 2)', () => {
    expect(acl.allows(user('carol'), 'read', 'b/q')).toBe(false);
    expect(acl.allows(user('carol'), 'subscribe', 'zzz/#')).toBe(true);
  });

  it('nobody may publish into $SYS, and # does not cover $ topics', () => {
    expect(acl.allows(user('admin'), 'publish', '$SYS/broker/uptime')).toBe(false);
    expect(acl.allows(user('admin'), 'read', '$SYS/broker/uptime')).toBe(false);
    const sys = parseAclFile('topic read $SYS/#\n', 'f');
    expect(sys.allows(anon('c'), 'read', '$SYS/broker/uptime')).toBe(true);
  });

  it('counts rules for reload summaries', () => {
    expect(acl.ruleCount).toBe(15);
  });
});

describe('invalid ACL files', () => {
  const cases: [string, RegExp][] = [
    ['topic\n', /^f:1: 'topic' needs a topic/],
    ['user\n', /^f:1: 'user' needs a username/],
    ['\n\ntopic sometimes a/b\n', /^f:3: unknown access 'sometimes'/],
    ['topic read a/#/b\n', /^f:1: 'a\/#\/b' is not a valid topic filter/],
    ['subscribe a\n', /^f:1: unknown keyword 'subscribe'; expected 'user <name>'/],
  ];
  for (const [text, message] of cases) {
    it(`reports ${JSON.stringify(text.trim())} with file:line and the accepted form`, () => {
      let err: unknown;
      try {
        parseAclFile(text, 'f');
      } catch (e) {
        err = e;
      }
      expect(isMothershipError(err, ErrorCodes.ACL_FILE_INVALID)).toBe(true);
      expect((err as Error).message).toMatch(message);
    });
  }
});

/** One row: who, doing what on which topic, and what mosquitto 2 (and we) decide. */
interface Case {
  who: string | undefined;
  clientId: string;
  action: 'read' | 'publish';
  topic: string;
  expected: boolean;
}

const table: Case[] = [
  { who: 'alice', clientId: 'a1', action: 'read', topic: 'a/x', expected: true },
  { who: 'alice', clientId: 'a2', action: 'read', topic: 'a/secret', expected: false },
  { who: 'alice', clientId: 'a3', action: 'publish', topic: 'a/secret', expected: false },
  { who: 'alice', clientId: 'a4', action: 'publish', topic: 'a/in/only', expected: true },
  { who: 'alice', clientId: 'a5', action: 'read', topic: 'sensors/k/temp', expected: true },
  { who: 'alice', clientId: 'a6', action: 'publish', topic: 'sensors/k/temp', expected: false },
  { who: 'alice', clientId: 'a7', action: 'read', topic: 'sensors/alice/temp', expected: true },
  { who: 'alice', clientId: 'a8', action: 'publish', topic: 'sensors/alice/x', expected: false },
  { who: 'alice', clientId: 'a9', action: 'read', topic: 'users/alice/inbox', expected: true },
  { who: 'alice', clientId: 'a10', action: 'read', topic: 'users/bob/inbox', expected: false },
  { who: 'alice', clientId: 'a11', action: 'read', topic: 'dev/a11/cmd', expected: true },
  { who: 'alice', clientId: 'a12', action: 'publish', topic: 'dev/a12/cmd', expected: false },
  { who: 'alice', clientId: 'a13', action: 'publish', topic: 'dev/a13/status', expected: true },
  { who: 'alice', clientId: 'a14', action: 'read', topic: 'x-a14/y', expected: true },
  { who: 'alice', clientId: 'a15', action: 'read', topic: 'public/x', expected: false },
  { who: 'alice', clientId: 'a16', action: 'publish', topic: 'spaced topic/x', expected: true },
  { who: 'alice', clientId: 'a#17', action: 'read', topic: 'users/alice/q', expected: false },
  { who: 'bob', clientId: 'b1', action: 'read', topic: 'a/x', expected: false },
  { who: 'bob', clientId: 'b2', action: 'read', topic: 'b/q', expected: true },
  { who: 'bob', clientId: 'b3', action: 'publish', topic: 'b/q', expected: true },
  { who: 'bob', clientId: 'b4', action: 'read', topic: 'dev/b4/cmd', expected: true },
  { who: 'carol', clientId: 'c1', action: 'read', topic: 'users/carol/1', expected: true },
  { who: 'carol', clientId: 'c2', action: 'read', topic: 'public/x', expected: false },
  { who: 'carol', clientId: 'c3', action: 'publish', topic: 'b/q', expected: false },
  { who: 'w+x', clientId: 'w1', action: 'read', topic: 'dev/w1/cmd', expected: false },
  { who: undefined, clientId: 'n1', action: 'read', topic: 'public/x', expected: true },
  { who: undefined, clientId: 'n2', action: 'publish', topic: 'public/x', expected: false },
  { who: undefined, clientId: 'n3', action: 'publish', topic: 'anon/rw', expected: true },
  { who: undefined, clientId: 'n4', action: 'read', topic: 'dev/n4/cmd', expected: true },
  { who: undefined, clientId: 'n5', action: 'read', topic: 'a/x', expected: false },
];

describe('against the real mosquitto broker with the same ACL file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ms-acl-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('every case in the table is decided the same way (delivered or not)', async () => {
    const aclPath = join(dir, 'acl');
    const pwPath = join(dir, 'pw');
    await writeFile(aclPath, ACL);
    await mosquittoPasswd(['-b', '-c', pwPath, 'admin', 'pw']);
    for (const u of ['alice', 'bob', 'carol', 'w+x']) await mosquittoPasswd(['-b', pwPath, u, 'pw']);
    const ours = await readAclFile(aclPath);
    const broker = await startMosquitto(dir, [
      'allow_anonymous true',
      `password_file ${pwPath}`,
      `acl_file ${aclPath}`,
    ]);
    const clients: MqttClient[] = [];
    const connect = async (who: string | undefined, clientId: string) => {
      const r = await tryConnect(broker.port, {
        clientId,
        ...(who ? { username: who, password: 'pw' } : {}),
      });
      if (!r.ok) throw new Error(`${who ?? 'anonymous'} could not connect: ${r.returnCode}`);
      clients.push(r.client);
      return r.client;
    };
    try {
      const admin = await connect('admin', 'admin');
      const seenByAdmin = new Set<string>();
      admin.on('message', (_t, payload) => seenByAdmin.add(payload.toString()));
      await admin.subscribeAsync('#', { qos: 1 });

      const received = new Map<number, boolean>();
      const subacks: number[] = [];
      await Promise.all(
        table.map(async (c, i) => {
          const client = await connect(c.who, c.clientId);
          if (c.action === 'read') {
            received.set(i, false);
            client.on('message', () => received.set(i, true));
            const granted = await client.subscribeAsync(c.topic, { qos: 1 });
            subacks.push(granted[0]!.qos);
          }
        }),
      );
      const byClient = new Map(table.map((c, i) => [c.clientId, clients[i + 1]!]));
      await Promise.all(
        table.map((c, i) =>
          c.action === 'read'
            ? admin.publishAsync(c.topic, `case-${i}`, { qos: 1 })
            : byClient.get(c.clientId)!.publishAsync(c.topic, `case-${i}`, { qos: 1 }),
        ),
      );
      await new Promise((r) => setTimeout(r, 500));

      const mosquitto = table.map((c, i) =>
        c.action === 'read' ? received.get(i) : seenByAdmin.has(`case-${i}`),
      );
      const mothership = table.map((c) =>
        ours.allows({ clientId: c.clientId, username: c.who }, c.action, c.topic),
      );
      const expected = table.map((c) => c.expected);
      // mosquitto 2 grants every SUBSCRIBE and filters per delivered message.
      expect(subacks.every((q) => q === 1)).toBe(true);
      expect(mosquitto).toEqual(expected);
      expect(mothership).toEqual(expected);
    } finally {
      for (const c of clients) c.end(true);
      await broker.stop();
    }
  }, 90_000);
});

describe('mayEverRead (check_subscribe_acl)', () => {
  const acl = parseAclFile(
    'topic read public/#\nuser blue\ntopic write green/led\ntopic readwrite blue/#\npattern read devices/%c/#\n',
    '/acl',
  );
  const blue = { clientId: 'board-7', username: 'blue' };
  it('a filter overlapping a read grant of the own block or a pattern may be subscribed', () => {
    expect(acl.mayEverRead(blue, 'blue/led')).toBe(true);
    expect(acl.mayEverRead(blue, '+/led')).toBe(true);
    expect(acl.mayEverRead(blue, 'devices/board-7/temp')).toBe(true);
    expect(acl.mayEverRead(blue, '$share/g/blue/#')).toBe(true);
  });
  it("a filter only write rules, other blocks or other clients' patterns cover is refused", () => {
    expect(acl.mayEverRead(blue, 'green/led')).toBe(false);
    expect(acl.mayEverRead(blue, 'public/x')).toBe(false); // the anonymous block's rule
    expect(acl.mayEverRead(blue, 'devices/board-8/temp')).toBe(false);
    expect(acl.mayEverRead({ clientId: 'x', username: undefined }, 'public/x')).toBe(true);
  });
});
