import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type Mothership, startMothership } from '../../../src/app/mothership.js';
import { cleanup, eventually, scratch } from '../helpers.js';

const started: Mothership[] = [];
afterEach(async () => {
  for (const m of started.splice(0)) await m.stop();
  await cleanup();
});

async function up(dataDir: string): Promise<{ m: Mothership; base: string; mqttUrl: string }> {
  const m = await startMothership({
    port: 0,
    wsPort: 0,
    host: '127.0.0.1',
    dataDir,
    mdns: false,
    logFormat: 'json',
  });
  started.push(m);
  const port = (protocol: string) => m.listeners.find((l) => l.protocol === protocol)!.port;
  return { m, base: `http://127.0.0.1:${port('websockets')}`, mqttUrl: `mqtt://127.0.0.1:${port('mqtt')}` };
}

type Disconnect = { at: number; reason: string; address: string };
/** What the clients inspector shows for a client gone: its last disconnects, newest first. */
const disconnectsOf = async (base: string, id: string): Promise<Disconnect[]> => {
  const body = (await (await fetch(`${base}/api/clients`)).json()) as {
    recentlyDisconnected: { clientId: string; disconnects: Disconnect[] }[];
  };
  return body.recentlyDisconnected.find((c) => c.clientId === id)?.disconnects ?? [];
};

describe("a client's last disconnects", () => {
  it('survive a restart of mothership, newest first, at most 20', async () => {
    const dataDir = join(await scratch(), 'data');
    const first = await up(dataDir);
    for (let i = 0; i < 22; i++) {
      const c = await mqtt.connectAsync(first.mqttUrl, { clientId: 'board-7', reconnectPeriod: 0 });
      await c.endAsync();
    }
    const before = await eventually(async () => {
      const d = await disconnectsOf(first.base, 'board-7');
      return d.length === 20 ? d : undefined;
    }, '20 disconnects of board-7');
    expect(before.every((d) => d.reason === 'normal')).toBe(true);
    await first.m.stop();
    started.splice(0);

    const second = await up(dataDir);
    expect(await disconnectsOf(second.base, 'board-7')).toEqual(before);
    // And new ones go on top.
    const c = await mqtt.connectAsync(second.mqttUrl, { clientId: 'board-7', reconnectPeriod: 0 });
    await c.endAsync();
    const after = await eventually(async () => {
      const d = await disconnectsOf(second.base, 'board-7');
      return d[0]!.at > before[0]!.at ? d : undefined;
    }, 'a new disconnect');
    expect(after).toHaveLength(20);
    expect(after.slice(1)).toEqual(before.slice(0, 19));
  }, 60_000);
});
