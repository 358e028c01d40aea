import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Authorizer } from '../../src/index.js';
import { type RunningBroker, startBroker } from '../helpers/broker.js';
import { killAll, run, start, until } from './helpers/process.js';

/**
 * Debian's mosquitto_pub / mosquitto_sub (the tools every seed tutorial pokes the broker with), at
 * protocol versions 3.1, 3.1.1 and 5, against the real broker over TCP.
 */

const PUB = '/usr/bin/mosquitto_pub';
const SUB = '/usr/bin/mosquitto_sub';

const denySecret: Authorizer = {
  allows: (_client, action, topic) => !(action !== 'read' && topic.startsWith('secret/')),
};

let b: RunningBroker;
beforeAll(async () => {
  b = await startBroker({ authorizer: denySecret });
});
afterAll(async () => {
  await b?.close();
});
afterEach(() => killAll());

it('mosquitto_pub and mosquitto_sub are installed', () => {
  expect(existsSync(PUB)).toBe(true);
  expect(existsSync(SUB)).toBe(true);
});

const hp = () => ['-h', '127.0.0.1', '-p', String(b.port)];

/** Resolves when the broker holds a subscription to exactly `filter` (from the client just started). */
function subscribed(filter: string, count = 1): Promise<void> {
  return until(
    () => b.broker.subscriptions().filter((s) => s.filter === filter).length >= count,
    `a subscription to ${filter}`,
  );
}

let n = 0;
function fresh(name: string): string {
  n++;
  return `mq/${name}/${n}`;
}

describe.each(['31', '311', '5'] as const)('mosquitto clients -V %s', (V) => {
  const ver = ['-V', V];

  it.each([0, 1, 2] as const)('[MQTT-4.3] QoS %i publish/subscribe round trip', async (qos) => {
    const topic = fresh(`q${qos}`);
    const sub = start(SUB, [...hp(), ...ver, '-d', '-q', String(qos), '-t', topic, '-C', '1', '-W', '10']);
    await subscribed(topic);
    const pub = await run(PUB, [
      ...hp(),
      ...ver,
      '-d',
      '-q',
      String(qos),
      '-t',
      topic,
      '-m',
      `hello q${qos}`,
    ]);
    expect(pub.code).toBe(0);
    expect(pub.stdout).toMatch(/received CONNACK \(0\)/);
    if (qos === 1) expect(pub.stdout).toMatch(/received PUBACK \(Mid: \d+, RC:0\)/);
    if (qos === 2) {
      expect(pub.stdout).toMatch(/received PUBREC/);
      expect(pub.stdout).toMatch(/received PUBCOMP/);
    }
    expect(await sub.exited).toBe(0);
    expect(sub.stdout).toMatch(/received CONNACK \(0\)/);
    expect(sub.stdout).toMatch(new RegExp(`Subscribed \\(mid: \\d+\\): ${qos}`));
    expect(sub.stdout).toMatch(new RegExp(`received PUBLISH \\(d0, q${qos}, r0, m\\d+, '${topic}'`));
    expect(sub.stdout).toMatch(new RegExp(`\\nhello q${qos}\\n`));
  });

  it('[MQTT-3.3.1-5] -r retained message delivered to a later subscriber with the retain flag', async () => {
    const topic = fresh('retained');
    const pub = await run(PUB, [...hp(), ...ver, '-q', '1', '-r', '-t', topic, '-m', 'kept']);
    expect(pub.code).toBe(0);
    const sub = await run(SUB, [...hp(), ...ver, '-d', '-v', '-t', topic, '-C', '1', '-W', '10']);
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(new RegExp(`received PUBLISH \\(d0, q0, r1, m0, '${topic}'`));
    expect(sub.stdout).toContain(`${topic} kept\n`);
  });

  it('[MQTT-3.3.1-5] --retained-only prints the retained messages and nothing live', async () => {
    const base = fresh('ronly');
    for (const k of ['a', 'b'])
      expect((await run(PUB, [...hp(), ...ver, '-r', '-t', `${base}/${k}`, '-m', `v${k}`])).code).toBe(0);
    const sub = await run(SUB, [...hp(), ...ver, '-v', '--retained-only', '-t', `${base}/#`, '-W', '1']);
    expect(sub.stdout.split('\n').filter(Boolean).sort()).toEqual([`${base}/a va`, `${base}/b vb`]);
  });

  it('[MQTT-3.3.1-10] -r -n clears a retained message', async () => {
    const topic = fresh('clear');
    expect((await run(PUB, [...hp(), ...ver, '-r', '-t', topic, '-m', 'x'])).code).toBe(0);
    expect((await run(PUB, [...hp(), ...ver, '-r', '-t', topic, '-n'])).code).toBe(0);
    const sub = await run(SUB, [...hp(), ...ver, '-v', '--retained-only', '-t', topic, '-W', '1']);
    expect(sub.stdout).toBe('');
  });

  it('-C 3 stops after exactly three messages of five', async () => {
    const topic = fresh('count');
    const sub = start(SUB, [...hp(), ...ver, '-q', '1', '-t', topic, '-C', '3', '-W', '10']);
    await subscribed(topic);
    // -l publishes each stdin line as one message.
    const pub = await run(PUB, [...hp(), ...ver, '-q', '1', '-t', topic, '-l'], { stdin: '1\n2\n3\n4\n5\n' });
    expect(pub.code).toBe(0);
    expect(await sub.exited).toBe(0);
    expect(sub.stdout).toBe('1\n2\n3\n');
  });

  it('[MQTT-4.7.1] wildcard subscription -t base/+/x -t base/# with -v', async () => {
    const base = fresh('wild');
    const sub = start(SUB, [...hp(), ...ver, '-v', '-t', `${base}/+/x`, '-C', '2', '-W', '10']);
    await subscribed(`${base}/+/x`);
    for (const t of [`${base}/a/y`, `${base}/a/x`, `${base}/b/x`])
      expect((await run(PUB, [...hp(), ...ver, '-q', '1', '-t', t, '-m', t.slice(-3)])).code).toBe(0);
    expect(await sub.exited).toBe(0);
    expect(sub.stdout).toBe(`${base}/a/x a/x\n${base}/b/x b/x\n`);
  });

  it('[MQTT-3.9.3] -d shows the failure return code for a denied subscription', async () => {
    const sub = await run(SUB, [...hp(), ...ver, '-d', '-t', 'secret/x', '-W', '3']);
    expect(sub.stdout).toMatch(/received CONNACK \(0\)/);
    expect(sub.stdout).toMatch(new RegExp(`Subscribed \\(mid: \\d+\\): ${V === '5' ? 135 : 128}`));
    // mosquitto_sub gives up when every subscription was refused.
    expect(sub.stderr).toMatch(/All subscription requests were denied/);
  });

  it('[MQTT-3.1.2-4] -c -i persistent session: QoS 1 messages queued while away are delivered', async () => {
    const topic = fresh('session');
    const id = `persist-${V}-${n}`;
    const keep = V === '5' ? ['-x', '60'] : [];
    const session = ['-i', id, '-c', ...keep, '-q', '1', '-t', topic];
    const first = start(SUB, [...hp(), ...ver, ...session, '-W', '10']);
    await subscribed(topic);
    first.kill();
    await first.exited;
    await until(() => !b.broker.clients().some((c) => c.clientId === id), 'the sleeper to be gone');
    for (const m of ['one', 'two'])
      expect((await run(PUB, [...hp(), ...ver, '-q', '1', '-t', topic, '-m', m])).code).toBe(0);
    const back = await run(SUB, [...hp(), ...ver, ...session, '-d', '-C', '2', '-W', '10']);
    expect(back.code).toBe(0);
    expect(back.stdout).toMatch(/received CONNACK \(0\)/);
    expect(back.stdout).toMatch(/\none\n/);
    expect(back.stdout).toMatch(/\ntwo\n/);
    // End the session so it does not outlive the test.
    await run(SUB, [...hp(), ...ver, '-i', id, '-t', topic, '-W', '1', '-E']);
  });

  it('[MQTT-3.1.2-8] will (--will-topic) published when mosquitto_sub is killed', async () => {
    const topic = fresh('will');
    const watcher = start(SUB, [...hp(), ...ver, '-t', topic, '-C', '1', '-W', '10']);
    await subscribed(topic);
    const dying = start(SUB, [
      ...hp(),
      ...ver,
      '-t',
      fresh('unused'),
      '--will-topic',
      topic,
      '--will-payload',
      'offline',
      '--will-qos',
      '1',
      '-W',
      '10',
    ]);
    await until(() => b.broker.clients().length >= 2, 'the dying client to connect');
    dying.kill();
    expect(await watcher.exited).toBe(0);
    expect(watcher.stdout).toBe('offline\n');
  });
});

describe('mosquitto clients, v5 only', () => {
  it('-D user-property and content-type reach a v5 subscriber (-F %P %C style output)', async () => {
    const topic = fresh('v5props');
    const sub = start(SUB, [...hp(), '-V', '5', '-t', topic, '-C', '1', '-W', '10', '-F', '%t|%p|%C|%P']);
    await subscribed(topic);
    const pub = await run(PUB, [
      ...hp(),
      '-V',
      '5',
      '-t',
      topic,
      '-m',
      'v',
      '-D',
      'publish',
      'user-property',
      'unit',
      'C',
      '-D',
      'publish',
      'content-type',
      'text/plain',
    ]);
    expect(pub.code).toBe(0);
    expect(await sub.exited).toBe(0);
    expect(sub.stdout.trim()).toBe(`${topic}|v|text/plain|unit:C`);
  });
});

describe("the seeds' own commands, verbatim plus -h/-p", () => {
  it("seed 002: mosquitto_sub -v -t 'blue/btn/0' sees mosquitto_pub -t 'blue/btn/0' -m '1'", async () => {
    const sub = start(SUB, [...hp(), '-v', '-t', 'blue/btn/0']);
    await subscribed('blue/btn/0');
    const pub = await run(PUB, [...hp(), '-t', 'blue/btn/0', '-m', '1']);
    expect(pub.code).toBe(0);
    await sub.waitOutput(/blue\/btn\/0 1\n/);
    sub.kill();
  });

  it('mosquitto_sub -d -t testTopic sees mosquitto_pub -d -t testTopic -m "Hello world!"', async () => {
    // stdbuf: mosquitto_sub's -d lines are stdio-buffered when stdout is a pipe, not a terminal.
    const sub = start('stdbuf', ['-oL', SUB, ...hp(), '-d', '-t', 'testTopic']);
    await sub.waitOutput(/Subscribed \(mid: 1\): 0/);
    const pub = await run(PUB, [...hp(), '-d', '-t', 'testTopic', '-m', 'Hello world!']);
    expect(pub.code).toBe(0);
    expect(pub.stdout).toMatch(/received CONNACK \(0\)/);
    expect(pub.stdout).toMatch(/sending PUBLISH \(d0, q0, r0, m1, 'testTopic', \.\.\. \(12 bytes\)\)/);
    await sub.waitOutput(
      /received PUBLISH \(d0, q0, r0, m0, 'testTopic', \.\.\. \(12 bytes\)\)\nHello world!\n/,
    );
    sub.kill();
  });

  it('seed 004: mosquitto_pub -d -t "output" -m "on" -q 1 gets its PUBACK', async () => {
    const pub = await run(PUB, [...hp(), '-d', '-t', 'output', '-m', 'on', '-q', '1']);
    expect(pub.code).toBe(0);
    expect(pub.stdout).toMatch(/received CONNACK \(0\)/);
    expect(pub.stdout).toMatch(/sending PUBLISH \(d0, q1, r0, m1, 'output', \.\.\. \(2 bytes\)\)/);
    expect(pub.stdout).toMatch(/received PUBACK \(Mid: 1, RC:0\)/);
    expect(pub.stdout).toMatch(/sending DISCONNECT/);
  });

  it('seed 003: mosquitto_sub -d -t to_mothership sees what a board publishes', async () => {
    const sub = start('stdbuf', ['-oL', SUB, ...hp(), '-d', '-t', 'to_mothership']);
    await sub.waitOutput(/received SUBACK\nSubscribed \(mid: 1\): 0/);
    b.broker.publish({ topic: 'to_mothership', payload: 'hello from ESP32' });
    await sub.waitOutput(/'to_mothership', \.\.\. \(16 bytes\)\)\nhello from ESP32\n/);
    sub.kill();
  });

  it('seed 003: mosquitto_pub -d -t from_mothership -m "wassap!" reaches a subscribed board', async () => {
    const board = start(SUB, [...hp(), '-t', 'from_mothership', '-C', '1', '-W', '10']);
    await subscribed('from_mothership');
    const pub = await run(PUB, [...hp(), '-d', '-t', 'from_mothership', '-m', 'wassap!']);
    expect(pub.code).toBe(0);
    expect(pub.stdout).toMatch(/sending PUBLISH \(d0, q0, r0, m1, 'from_mothership', \.\.\. \(7 bytes\)\)/);
    expect(await board.exited).toBe(0);
    expect(board.stdout).toBe('wassap!\n');
  });

  it("seed 000: mosquitto_sub -v -t 'hello' sees mosquitto_pub -t 'hello' -m 'my name is blah'", async () => {
    const sub = start(SUB, [...hp(), '-v', '-t', 'hello']);
    await subscribed('hello');
    const pub = await run(PUB, [...hp(), '-t', 'hello', '-m', 'my name is blah']);
    expect(pub.code).toBe(0);
    await sub.waitOutput(/^hello my name is blah\n/);
    sub.kill();
  });
});
