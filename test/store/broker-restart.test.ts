import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { IPublishPacket } from 'mqtt-packet';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { RawClient } from '../helpers/raw-client.js';
import { killAll, start } from '../interop/helpers/process.js';
import {
  cleanupScratch,
  freePort,
  killAllUp,
  scratch,
  sleep,
  startUp,
  stopGracefully,
  waitUntil,
  within,
} from './helpers/up-process.js';

// A graceful stop (SIGTERM) and start of the real `mothership up` keeps retained messages, persistent
// sessions with their subscriptions and queues, QoS 2 state and will/expiry deadlines; with persistence
// off it keeps nothing; a damaged database stops the start with one line unless --recover.

const clients: MqttClient[] = [];
const raws: RawClient[] = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.end(true);
  for (const r of raws.splice(0)) r.destroy();
  killAll();
});
afterAll(() => {
  killAllUp();
  cleanupScratch();
});

function mqttClient(port: number, options: IClientOptions): MqttClient {
  const c = mqtt.connect({
    host: '127.0.0.1',
    port,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  });
  c.on('error', () => {});
  clients.push(c);
  return c;
}

async function connected(c: MqttClient): Promise<{ sessionPresent: boolean }> {
  return within(
    new Promise((resolve) => c.once('connect', (connack) => resolve(connack))),
    10_000,
    'MQTT.js connect',
  );
}

async function raw(port: number, connect: Parameters<typeof RawClient.connected>[1]) {
  const r = await RawClient.connected(port, connect);
  raws.push(r.client);
  return r;
}

async function publishOnce(port: number, topic: string, payload: string, retain = false): Promise<void> {
  const p = mqttClient(port, {
    clientId: `pub-${Math.random().toString(16).slice(2, 8)}`,
    protocolVersion: 5,
  });
  await connected(p);
  await within(p.publishAsync(topic, payload, { qos: 1, retain }), 5000, `publish ${topic}`);
  await within(p.endAsync(), 5000, 'publisher end');
}

describe('mothership up stopped with SIGTERM and started again', () => {
  it('keeps retained messages, persistent sessions (v5 and mosquitto_sub -c) and their queues', async () => {
    const port = await freePort();
    const data = scratch('ms-restart-');
    let up = await startUp(port, data);

    // A v5 subscriber with a Subscription Identifier and No Local, then offline.
    const v5 = mqttClient(port, {
      clientId: 'keeper-v5',
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
    });
    await connected(v5);
    await within(
      v5.subscribeAsync('home/#', { qos: 1, nl: true, properties: { subscriptionIdentifier: 7 } }),
      5000,
      'v5 subscribe',
    );
    await within(v5.endAsync(), 5000, 'v5 end');

    // A 3.1.1 persistent session from the real mosquitto_sub, then offline.
    // -C 1: it exits after its first message, so a QoS 0 ping it receives proves it is subscribed.
    const board = start(
      'mosquitto_sub',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-c',
        '-i',
        'board',
        '-q',
        '1',
        '-t',
        'home/#',
        '-v',
        '-C',
        '1',
      ],
      { timeoutMs: 15_000 },
    );
    const pinger = mqttClient(port, { clientId: 'pinger', protocolVersion: 5 });
    await connected(pinger);
    for (let i = 0; i < 100 && board.child.exitCode === null; i++) {
      pinger.publish('home/ping', 'ping', { qos: 0 });
      await sleep(100);
    }
    expect(await within(board.exited, 5000, 'mosquitto_sub -C 1 exits')).toBe(0);
    expect(board.stdout).toContain('home/ping ping');
    await within(pinger.endAsync(), 5000, 'pinger end');

    await publishOnce(port, 'home/status', 'online', true);
    await publishOnce(port, 'home/before', 'b1');

    expect(await stopGracefully(up)).toBe(0);
    up = await startUp(port, data);
    await publishOnce(port, 'home/after', 'a1');

    // The retained message is back, for a new client.
    const fresh = mqttClient(port, { clientId: 'fresh', protocolVersion: 5 });
    const retained: string[] = [];
    fresh.on('message', (t, p, packet) => {
      if (packet.retain) retained.push(`${t} ${p}`);
    });
    await connected(fresh);
    await within(fresh.subscribeAsync('home/#', { qos: 1 }), 5000, 'fresh subscribe');
    await waitUntil(() => retained.length > 0, 'the retained message', 5000);
    expect(retained).toEqual(['home/status online']);

    // The v5 session: present, subscription restored (id 7, no local), queue from before and after.
    const got: { topic: string; payload: string; subId: unknown }[] = [];
    const back = mqttClient(port, {
      clientId: 'keeper-v5',
      protocolVersion: 5,
      clean: false,
      resubscribe: false,
      properties: { sessionExpiryInterval: 3600 },
    });
    back.on('message', (topic, payload, packet) =>
      got.push({ topic, payload: payload.toString(), subId: packet.properties?.subscriptionIdentifier }),
    );
    const connack = await connected(back);
    expect(connack.sessionPresent).toBe(true);
    await waitUntil(() => got.length >= 3, 'the three queued messages', 5000);
    expect(got.map((g) => `${g.topic} ${g.payload}`)).toEqual([
      'home/status online',
      'home/before b1',
      'home/after a1',
    ]);
    expect(got.every((g) => g.subId === 7)).toBe(true);
    // No Local survived: its own publish does not come back; another client's does.
    await within(back.publishAsync('home/self', 'mine', { qos: 1 }), 5000, 'own publish');
    await publishOnce(port, 'home/other', 'theirs');
    await waitUntil(() => got.some((g) => g.topic === 'home/other'), 'home/other', 5000);
    expect(got.some((g) => g.topic === 'home/self')).toBe(false);

    // The 3.1.1 session of mosquitto_sub -c -i board: its queue from before and after the restart.
    const board2 = start(
      'mosquitto_sub',
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-c',
        '-i',
        'board',
        '-q',
        '1',
        '-t',
        'home/#',
        '-v',
        '-C',
        '3',
      ],
      { timeoutMs: 10_000 },
    );
    await within(board2.exited, 12_000, 'mosquitto_sub -C 3');
    const lines = board2.stdout.trim().split('\n');
    expect(lines).toContain('home/before b1');
    expect(lines).toContain('home/after a1');
    await stopGracefully(up);
  }, 60_000);

  it('finishes a QoS 2 delivery whose PUBREC was sent before the stop with PUBREL/PUBCOMP after it', async () => {
    const port = await freePort();
    const data = scratch('ms-restart-q2-');
    let up = await startUp(port, data);
    const who = { clientId: 'raw-q2', clean: false, protocolVersion: 4 as const };
    const { client: sub } = await raw(port, who);
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q2/#', qos: 2 }] });
    await sub.next('suback');
    const pub = mqttClient(port, { clientId: 'q2-pub', protocolVersion: 4 });
    await connected(pub);
    await within(pub.publishAsync('q2/x', 'exactly once', { qos: 2 }), 5000, 'QoS 2 publish');
    const publish = (await sub.next('publish')) as IPublishPacket;
    expect(publish.qos).toBe(2);
    sub.send({ cmd: 'pubrec', messageId: publish.messageId });
    const pubrel = await sub.next('pubrel');
    expect(pubrel.messageId).toBe(publish.messageId);
    // No PUBCOMP: the broker still waits for it when it stops.
    sub.destroy();
    await sleep(200);
    expect(await stopGracefully(up)).toBe(0);

    up = await startUp(port, data);
    const { client: again, connack } = await raw(port, who);
    expect(connack.sessionPresent).toBe(true);
    const rel = await again.next('pubrel');
    expect(rel.messageId).toBe(publish.messageId);
    expect(await again.nothing('publish', 500)).toBe(true); // never the PUBLISH again
    again.send({ cmd: 'pubcomp', messageId: publish.messageId });
    await sleep(200);
    again.send({ cmd: 'disconnect' });
    await sleep(200);
    expect(await stopGracefully(up)).toBe(0);

    // Completed means gone: a third start has nothing left to send.
    up = await startUp(port, data);
    const { client: third, connack: c3 } = await raw(port, who);
    expect(c3.sessionPresent).toBe(true);
    expect(await third.nothing('pubrel', 700)).toBe(true);
    expect(third.packets.filter((p) => p.cmd === 'publish')).toEqual([]);
    await stopGracefully(up);
  }, 60_000);

  it('keeps will-delay and session-expiry deadlines counting across the restart', async () => {
    const port = await freePort();
    const data = scratch('ms-restart-will-');
    let up = await startUp(port, data);
    const watcher = mqttClient(port, {
      clientId: 'will-watcher',
      protocolVersion: 5,
      clean: false,
      reconnectPeriod: 50,
      properties: { sessionExpiryInterval: 3600 },
    });
    const wills: number[] = [];
    watcher.on('message', (topic) => {
      if (topic === 'wills/willer') wills.push(Date.now());
    });
    await connected(watcher);
    await within(watcher.subscribeAsync('wills/#', { qos: 1 }), 5000, 'watcher subscribe');

    // Deadlines wide apart, so that a loaded machine's delays cannot blur them: the will is due 5 s after
    // the disconnect, while the broker is down (stopped at ~1 s, restarted at ~6 s); counted from the
    // disconnect it goes out as soon as the broker is back, counted from the restart it would wait 5 s
    // more. The session expires 9 s after the disconnect; counted from the restart it would live ~6 s longer.
    const WILL_DELAY_S = 5;
    const EXPIRY_S = 9;
    const willer = {
      clientId: 'willer',
      clean: false,
      protocolVersion: 5 as const,
      properties: { sessionExpiryInterval: EXPIRY_S },
      will: {
        topic: 'wills/willer',
        payload: Buffer.from('gone'),
        qos: 1 as const,
        retain: false,
        properties: { willDelayInterval: WILL_DELAY_S },
      },
    };
    const { client: w } = await raw(port, willer);
    w.destroy(); // abnormal: no DISCONNECT
    const t0 = Date.now();
    await sleep(1000);
    expect(await stopGracefully(up)).toBe(0);
    expect(wills).toEqual([]); // not before its delay
    await sleep(Math.max(WILL_DELAY_S * 1000 + 1000 - (Date.now() - t0), 0)); // the will falls due while down
    up = await startUp(port, data);
    const readyAt = Date.now();

    await waitUntil(() => wills.length > 0, 'the delayed will', 15_000);
    const after = wills[0]! - t0;
    const sinceRestart = wills[0]! - readyAt;
    console.log(
      `will: ${after} ms after the disconnect, ${sinceRestart} ms after the restarted broker was up (${readyAt - t0} ms after the disconnect)`,
    );
    expect(after).toBeGreaterThanOrEqual(WILL_DELAY_S * 1000 - 200);
    // Due while the broker was down: sent at once when it is back, not a whole delay after the restart.
    expect(sinceRestart).toBeLessThan((WILL_DELAY_S * 1000) / 2);

    // Session expiry counted from the disconnect: gone by EXPIRY_S + 0.5 s; counted from the restart it
    // would still be there until readyAt + EXPIRY_S, at least 6 s later.
    await sleep(Math.max(EXPIRY_S * 1000 + 500 - (Date.now() - t0), 0));
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(readyAt - t0 + EXPIRY_S * 1000); // checked before a restart-based expiry
    const { connack } = await raw(port, { ...willer, will: undefined });
    console.log(`session checked ${elapsed} ms after the disconnect: present=${connack.sessionPresent}`);
    expect(connack.sessionPresent).toBe(false);
    expect(wills.length).toBe(1);
    await stopGracefully(up);
  }, 120_000);

  for (const how of ['persistence false in the config', '--no-persistence'] as const) {
    it(`keeps nothing with ${how}`, async () => {
      const port = await freePort();
      const data = scratch('ms-restart-off-');
      const extra: string[] = [];
      if (how === '--no-persistence') extra.push('--no-persistence');
      else {
        const conf = join(scratch('ms-conf-'), 'mothership.conf');
        writeFileSync(conf, 'persistence false\n');
        extra.push('-c', conf);
      }
      let up = await startUp(port, data, extra);
      if (how === '--no-persistence') expect(up.output()).toMatch(/Data +memory only/);
      await publishOnce(port, 'mem/retained', 'r', true);
      const s = mqttClient(port, {
        clientId: 'mem-sub',
        protocolVersion: 5,
        clean: false,
        properties: { sessionExpiryInterval: 3600 },
      });
      await connected(s);
      await within(s.subscribeAsync('mem/#', { qos: 1 }), 5000, 'subscribe');
      await within(s.endAsync(), 5000, 'end');
      await publishOnce(port, 'mem/queued', 'q');
      expect(await stopGracefully(up)).toBe(0);

      up = await startUp(port, data, extra);
      const back = mqttClient(port, {
        clientId: 'mem-sub',
        protocolVersion: 5,
        clean: false,
        resubscribe: false,
        properties: { sessionExpiryInterval: 3600 },
      });
      const got: string[] = [];
      back.on('message', (t) => got.push(t));
      const connack = await connected(back);
      expect(connack.sessionPresent).toBe(false);
      await within(back.subscribeAsync('mem/#', { qos: 1 }), 5000, 'subscribe again');
      await sleep(400);
      expect(got).toEqual([]); // neither the queued message nor the retained one
      expect(existsSync(join(data, 'mothership.db'))).toBe(false);
      await stopGracefully(up);
    }, 40_000);
  }

  it("per_listener_settings: an offline session keeps its listener's ACL across the restart, so its queue is delivered", async () => {
    const port = await freePort();
    const dir = scratch('ms-conf-');
    const acl = join(dir, 'acl');
    writeFileSync(acl, 'topic readwrite x/#\n');
    const conf = join(dir, 'mothership.conf');
    writeFileSync(conf, `per_listener_settings true\nallow_anonymous true\nacl_file ${acl}\n`);
    const data = scratch('ms-restart-pl-');
    let up = await startUp(port, data, ['-c', conf]);
    const board = mqttClient(port, { clientId: 'pl-board', clean: false, protocolVersion: 4 });
    await connected(board);
    await within(board.subscribeAsync('x/#', { qos: 1 }), 5000, 'subscribe');
    await within(board.endAsync(), 5000, 'board end');
    await publishOnce(port, 'x/before', 'queued before the restart');
    expect(await stopGracefully(up)).toBe(0);

    up = await startUp(port, data, ['-c', conf]);
    await publishOnce(port, 'x/after', 'queued after the restart');
    const back = mqttClient(port, { clientId: 'pl-board', clean: false, protocolVersion: 4 });
    const got: string[] = [];
    back.on('message', (topic, payload) => got.push(`${topic} ${payload}`));
    await connected(back);
    await waitUntil(() => got.length >= 2, 'both queued messages');
    expect(got.sort()).toEqual(['x/after queued after the restart', 'x/before queued before the restart']);
    await stopGracefully(up);
  }, 40_000);

  it('says "memory only" in the banner with persistence false in the config', async () => {
    const port = await freePort();
    const conf = join(scratch('ms-conf-'), 'mothership.conf');
    writeFileSync(conf, 'persistence false\n');
    const up = await startUp(port, scratch('ms-restart-off-'), ['-c', conf]);
    const banner = up.output();
    await stopGracefully(up);
    expect(banner).toMatch(/Data +memory only/);
  }, 30_000);

  it('refuses a damaged database with one line naming the file, and --recover moves it aside', async () => {
    const port = await freePort();
    const data = scratch('ms-restart-bad-');
    const file = join(data, 'mothership.db');
    writeFileSync(file, Buffer.from('this is not a database, it is garbage '.repeat(200)));
    const r = await runCli(
      ['up', '-p', String(port), '--host', '127.0.0.1', '--no-ws', '--no-mdns', '--data', data],
      { timeoutMs: 20_000 },
    );
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `mothership up: The database ${file} is damaged (not an SQLite database: bad file header); it was not ` +
        'changed. Start again with --recover to move it aside (renamed, never deleted) and begin with an ' +
        'empty database; see docs/persistence.md. [MS_STORE_CORRUPT]',
    );
    expect(r.stdout).not.toMatch(/Mothership is up/);
    expect(readdirSync(data)).toEqual(['mothership.db']); // nothing changed

    const up = await startUp(port, data, ['--recover']);
    const moved = readdirSync(data).filter((f) => f.startsWith('mothership.db.corrupt-'));
    expect(moved).toHaveLength(1);
    expect(up.output()).toContain(moved[0]);
    // And it works: a retained message is kept in the fresh database.
    await publishOnce(port, 'fresh/start', 'ok', true);
    expect(await stopGracefully(up)).toBe(0);
    expect(existsSync(file)).toBe(true);
  }, 40_000);

  it('refuses a 0-byte database beside a -wal with data (hole 6), and --recover moves both aside', async () => {
    const port = await freePort();
    const data = scratch('ms-restart-empty-');
    const file = join(data, 'mothership.db');
    let up = await startUp(port, data);
    await publishOnce(port, 'was/here', 'in the wal', true);
    // A copy of the live -wal (the broker keeps it while running), then a main file that lost its bytes.
    const wal = readFileSync(`${file}-wal`);
    expect(await stopGracefully(up)).toBe(0);
    writeFileSync(file, '');
    writeFileSync(`${file}-wal`, wal);

    const r = await runCli(
      ['up', '-p', String(port), '--host', '127.0.0.1', '--no-ws', '--no-mdns', '--data', data],
      { timeoutMs: 20_000 },
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `mothership up: The database ${file} is damaged (the file is empty (0 bytes) but its -wal holds ${wal.length} bytes); ` +
        'it was not changed. Start again with --recover to move it aside (renamed, never deleted) and begin ' +
        'with an empty database; see docs/persistence.md. [MS_STORE_CORRUPT]',
    ]);
    expect(readFileSync(`${file}-wal`).equals(wal)).toBe(true);

    up = await startUp(port, data, ['--recover']);
    const moved = readdirSync(data).filter(
      (f) => f.startsWith('mothership.db.corrupt-') && !f.endsWith('-wal') && !f.endsWith('-shm'),
    );
    expect(moved).toHaveLength(1);
    expect(readFileSync(join(data, `${moved[0]}-wal`)).equals(wal)).toBe(true);
    expect(await stopGracefully(up)).toBe(0);
  }, 40_000);
});
