import { unlinkSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import type { IPubackPacket, IPublishPacket, IPubrecPacket } from 'mqtt-packet';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunningCli } from '../helpers/cli.js';
import { RawClient } from '../helpers/raw-client.js';
import { mountTmpfs } from './helpers/tmpfs.js';
import {
  freePort,
  killAllUp,
  sleep,
  startUp,
  stopGracefully,
  waitUntil,
  within,
} from './helpers/up-process.js';

// A real full disk under the real `mothership up`: its data directory is a 1 MiB tmpfs (needs root /
// CAP_SYS_ADMIN). While the disk is full, QoS 1 publishes are refused rather than acknowledged:
// v5 gets PUBACK 0x97 (quota exceeded), 3.1.1 (which has no refusal) gets its connection closed.

const disk = mountTmpfs('1m', 'broker-full-disk');
const { mountPoint } = disk;
const mounted = disk.problem === undefined;
const mountError = disk.problem ?? '';

let up: RunningCli | undefined;
const clients: MqttClient[] = [];
const raws: RawClient[] = [];

afterAll(async () => {
  for (const c of clients) c.end(true);
  for (const r of raws) r.destroy();
  if (up) await stopGracefully(up).catch(() => {});
  killAllUp();
  disk.unmount();
});

const BIG = Buffer.alloc(48 * 1024, 0x41); // bigger than any free WAL space, so the write must grow a file

const describeMounted = mounted ? describe : describe.skip;

if (!mounted) {
  describe('mothership up on a full disk', () => {
    it.skip(`SKIPPED: cannot mount a tmpfs (need root): ${mountError}`, () => {});
  });
}

describeMounted('mothership up on a full disk (1 MiB tmpfs)', () => {
  it('refuses QoS 1 publishes while the disk is full (v5: 0x97, 3.1.1: closed), then recovers without a restart', async () => {
    const port = await freePort();
    up = await startUp(port, mountPoint);

    // A persistent subscriber gone offline: every QoS 1 message for it must be queued on disk (payload
    // too) before the publisher is acknowledged. (An online subscriber that acknowledges within the
    // commit window leaves nothing to write.)
    const got: string[] = [];
    const subscriber = async () => {
      const c = mqtt.connect({
        host: '127.0.0.1',
        port,
        clientId: 'full-sub',
        protocolVersion: 5,
        clean: false,
        properties: { sessionExpiryInterval: 3600 },
        reconnectPeriod: 100,
      });
      c.on('error', () => {});
      clients.push(c);
      c.on('message', (t, p) => got.push(`${t} ${p.length}`));
      await within(new Promise((r) => c.once('connect', r)), 10_000, 'subscriber connect');
      return c;
    };
    const sub = await subscriber();
    await within(sub.subscribeAsync('full/#', { qos: 1 }), 5000, 'subscribe');
    await within(sub.endAsync(), 5000, 'subscriber goes offline');

    // Before: acknowledged.
    const v5 = await RawClient.connected(port, { protocolVersion: 5, clientId: 'full-v5', clean: true });
    raws.push(v5.client);
    v5.client.send({ cmd: 'publish', topic: 'full/before', payload: BIG, qos: 1, messageId: 1 });
    const ok = (await v5.client.next('puback', 5000)) as IPubackPacket;
    expect(ok.reasonCode ?? 0).toBe(0);

    const filler = disk.fill();
    try {
      v5.client.send({ cmd: 'publish', topic: 'full/during-v5', payload: BIG, qos: 1, messageId: 2 });
      const refused = (await v5.client.next('puback', 5000)) as IPubackPacket;
      expect(refused.messageId).toBe(2);
      expect(refused.reasonCode).toBe(0x97);

      const v4 = await RawClient.connected(port, { protocolVersion: 4, clientId: 'full-v4', clean: true });
      raws.push(v4.client);
      v4.client.send({ cmd: 'publish', topic: 'full/during-v4', payload: BIG, qos: 1, messageId: 3 });
      await v4.client.waitClosed(5000);
      expect(v4.client.packets.filter((p) => p.cmd === 'puback')).toEqual([]);
      expect(up.output()).toMatch(/MS_STORE_FULL|disk is full/);
    } finally {
      unlinkSync(filler);
    }

    // After: the failed writes are retried (within about a second), new publishes are acknowledged again.
    let acked = false;
    for (let id = 10; id < 30 && !acked; id++) {
      v5.client.send({ cmd: 'publish', topic: 'full/after', payload: BIG, qos: 1, messageId: id });
      const ack = (await v5.client.next('puback', 5000)) as IPubackPacket;
      acked = (ack.reasonCode ?? 0) === 0;
      if (!acked) await sleep(300);
    }
    expect(acked).toBe(true);
    const v4again = await RawClient.connected(port, { protocolVersion: 4, clientId: 'full-v4', clean: true });
    raws.push(v4again.client);
    v4again.client.send({
      cmd: 'publish',
      topic: 'full/after-v4',
      payload: Buffer.from('small'),
      qos: 1,
      messageId: 5,
    });
    const ack4 = await v4again.client.next('puback', 5000);
    expect(ack4.messageId).toBe(5);

    await subscriber();
    await waitUntil(
      () => got.includes(`full/after ${BIG.length}`) && got.includes('full/after-v4 5'),
      'the messages published after the disk was freed',
      5000,
    );
    expect(got).toContain(`full/before ${BIG.length}`);
    expect(await stopGracefully(up)).toBe(0);
    up = undefined;
  }, 60_000);

  it('QoS 2 on a full disk: v5 refusal (0x97) releases the id and delivers nothing; 3.1.1 gets no PUBREC, PUBCOMP or SUBACK until the disk has it', async () => {
    const port = await freePort();
    up = await startUp(port, mountPoint);
    const persistent = (clientId: string, protocolVersion: 4 | 5) => ({
      clientId,
      protocolVersion,
      clean: false,
      ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 3600 } } : {}),
    });
    const raw = async (connect: Parameters<typeof RawClient.connected>[1]) => {
      const r = await RawClient.connected(port, connect);
      raws.push(r.client);
      return r;
    };
    const watcher = (await raw({ clientId: 'q2-watch', protocolVersion: 5 })).client;
    watcher.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q2/#', qos: 2 }] });
    await watcher.next('suback');
    const v5 = (await raw(persistent('q2-v5', 5))).client;
    const v4first = (await raw(persistent('q2-v4', 4))).client;
    v4first.destroy();
    const late = (await raw(persistent('q2-late-sub', 5))).client;

    const filler = disk.fill();
    let freed = false;
    try {
      // v5: refused, the id released, nothing routed.
      v5.send({ cmd: 'publish', topic: 'q2/refused', payload: BIG, qos: 2, messageId: 7 });
      const refused = (await v5.next('pubrec', 5000)) as IPubrecPacket;
      expect([refused.messageId, refused.reasonCode]).toEqual([7, 0x97]);
      // The id may be reused at once for a new message [MQTT-2.2.1-3]; still full: refused too.
      v5.send({ cmd: 'publish', topic: 'q2/reused', payload: Buffer.from('small'), qos: 2, messageId: 7 });
      expect(((await v5.next('pubrec', 5000)) as IPubrecPacket).reasonCode).toBe(0x97);

      // 3.1.1: no refusal exists, so no PUBREC and the connection closes; the DUP resend is not
      // answered from memory either.
      for (const dup of [false, true]) {
        const v4 = (await raw(persistent('q2-v4', 4))).client;
        v4.send({ cmd: 'publish', topic: 'q2/v4', payload: BIG, qos: 2, messageId: 3, dup });
        await v4.waitClosed(5000);
        expect(v4.packets.map((p) => p.cmd)).toEqual([]);
      }
      // A PUBREL for that id (the client thinks it was received): no PUBCOMP while nothing is on disk.
      const v4rel = (await raw(persistent('q2-v4', 4))).client;
      v4rel.send({ cmd: 'pubrel', messageId: 3 });
      // SUBSCRIBE of a persistent session: no SUBACK before the subscription is on disk.
      late.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'q2/#', qos: 2 }] });
      expect(await v4rel.nothing('pubcomp', 800)).toBe(true);
      expect(await late.nothing('suback', 10)).toBe(true);
      expect(await watcher.nothing('publish', 10)).toBe(true);

      unlinkSync(filler);
      freed = true;
      // Space is back: the retry commits, and the held-back acknowledgements go out.
      expect((await v4rel.next('pubcomp', 5000)).messageId).toBe(3);
      expect((await late.next('suback', 5000)).messageId).toBe(2);
      v4rel.send({ cmd: 'publish', topic: 'q2/v4', payload: Buffer.from('v4 after'), qos: 2, messageId: 3 });
      expect((await v4rel.next('pubrec', 5000)).messageId).toBe(3);
      v4rel.send({ cmd: 'pubrel', messageId: 3 });
      await v4rel.next('pubcomp', 5000);
      v5.send({ cmd: 'publish', topic: 'q2/after', payload: Buffer.from('v5 after'), qos: 2, messageId: 7 });
      expect(((await v5.next('pubrec', 5000)) as IPubrecPacket).reasonCode ?? 0).toBe(0);
      v5.send({ cmd: 'pubrel', messageId: 7 });
      await v5.next('pubcomp', 5000);
    } finally {
      if (!freed) unlinkSync(filler);
    }
    const seen: string[] = [];
    for (let i = 0; i < 2; i++) {
      const p = (await watcher.next('publish', 5000)) as IPublishPacket;
      seen.push(`${p.topic} ${p.payload.toString()}`);
    }
    expect(seen.sort()).toEqual(['q2/after v5 after', 'q2/v4 v4 after']);
    expect(await watcher.nothing('publish', 300)).toBe(true);
    expect(await stopGracefully(up)).toBe(0);
    up = undefined;
  }, 60_000);
});
