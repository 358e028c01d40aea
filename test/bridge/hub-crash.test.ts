import { afterEach, describe, expect, it } from 'vitest';
import { cliArgs } from '../helpers/cli.js';
import { type LaunchedBroker, launchMosquitto } from '../helpers/mosquitto.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { cleanup, client, collector, node } from './helpers.js';

let proxy: TcpProxy | undefined;
let hub: LaunchedBroker | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
  await proxy?.close();
  proxy = undefined;
  await cleanup();
});

const TOPICS = 5;
const PER_ROUND = 100;
const ROUNDS = 3;

describe('a hub killed (kill -9) during an outage', () => {
  it('loses no acknowledged message, round after round', async () => {
    const remote = await node();
    proxy = await startTcpProxy(remote.port);
    proxy.down();
    // `mothership up -c` as a child process, its data in its working folder.
    hub = await launchMosquitto({
      config: [
        'connection cloud',
        `address 127.0.0.1:${proxy.port}`,
        'remote_clientid hub-a',
        'restart_timeout 1 2',
        'topic fleet/# out 1 "" home/',
      ],
      command: (conf) => [process.execPath, cliArgs(['up', '-c', conf, '--no-mdns'])],
    });
    let next = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const pub = await client(`mqtt://127.0.0.1:${hub.port}`, { protocolVersion: 4 });
      const acks: Promise<unknown>[] = [];
      for (let i = 0; i < PER_ROUND; i++, next++)
        for (let t = 0; t < TOPICS; t++) acks.push(pub.publishAsync(`fleet/t${t}`, String(next), { qos: 1 }));
      await Promise.all(acks); // every one acknowledged: every one must arrive
      await hub.kill();
      await hub.restart();
    }

    const cloud = await collector(remote.url, 'home/#');
    proxy.up();
    await cloud.until(() => true, TOPICS * PER_ROUND * ROUNDS);
    for (let t = 0; t < TOPICS; t++) {
      const got = cloud.messages.filter((m) => m.topic === `home/fleet/t${t}`).map((m) => Number(m.payload));
      expect(got, `home/fleet/t${t}`).toEqual(Array.from({ length: PER_ROUND * ROUNDS }, (_, i) => i));
    }
  });
});
