import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { startMothership } from '../../src/app/mothership.js';
import { parseConfig } from '../../src/config/mosquitto-conf.js';
import { HistoryRecorder } from '../../src/hub/history/index.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function scratch(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'ms-app-'));
  dirs.push(d);
  return d;
}

async function publishRetained(port: number, topic: string, payload: string): Promise<void> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
  await client.publishAsync(topic, payload, { qos: 1, retain: true });
  await client.endAsync();
}

async function retainedOf(port: number, topic: string): Promise<string> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
  const got = new Promise<string>((resolve) => client.on('message', (_t, p) => resolve(p.toString())));
  await client.subscribeAsync(topic, { qos: 1 });
  const payload = await got;
  await client.endAsync();
  return payload;
}

describe('startMothership: the one composition root', () => {
  it('wires store, access, listeners and logging from options; the state survives a stop and a start', async () => {
    const dataDir = await scratch();
    const options = {
      port: 0,
      wsPort: 0,
      host: '127.0.0.1',
      dataDir,
      mdns: false,
      logFormat: 'json' as const,
    };
    const first = await startMothership(options);
    expect(first.listeners.map((l) => l.protocol)).toEqual(['mqtt', 'websockets']);
    expect(first.dataDir).toBe(dataDir);
    expect(first.mdns).toBe(false);
    expect(first.banner()).toMatch(/mqtt:\/\/127\.0\.0\.1:\d+/);
    await publishRetained(first.listeners[0]!.port, 'machine1/status', 'online');
    await first.stop();

    const second = await startMothership(options);
    expect(await retainedOf(second.listeners[0]!.port, 'machine1/status')).toBe('online');
    await second.stop();
  });

  it("a config's listeners replace the defaults and its settings reach the broker", async () => {
    const config = parseConfig(
      'listener 0 127.0.0.1\nmax_keepalive 30\npersistence false\nallow_anonymous true\n',
      '/x/m.conf',
    );
    const m = await startMothership({ config, configPath: '/x/m.conf', mdns: false, logFormat: 'json' });
    expect(m.listeners).toHaveLength(1);
    expect(m.dataDir).toBeUndefined();
    expect(m.broker.options.maxKeepalive).toBe(30);
    expect(m.access.anonymous).toMatchObject({ policy: 'everyone' });
    await m.stop();
    await m.stop(); // twice is harmless
  });

  it('a stop takes no new message first: the history has every one the broker acknowledged', async () => {
    const dataDir = await scratch();
    const m = await startMothership({
      port: 0,
      wsPort: 0,
      host: '127.0.0.1',
      dataDir,
      mdns: false,
      logFormat: 'json',
    });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${m.listeners[0]!.port}`, {
      reconnectPeriod: 0,
    });
    client.on('error', () => {});
    // A publisher that keeps 50 QoS 1 messages in flight, each on its own topic, until the stop ends it.
    const acked: number[] = [];
    let sent = 0;
    const pump = (): void => {
      while (client.connected && sent - acked.length < 50 && sent < 100_000) {
        const i = sent++;
        client.publish(`meter/${i}`, '1', { qos: 1 }, (err) => {
          if (err) return;
          acked.push(i);
          pump();
        });
      }
    };
    pump();
    for (const deadline = Date.now() + 30_000; acked.length < 200 && Date.now() < deadline; )
      await new Promise((r) => setTimeout(r, 10));
    expect(acked.length).toBeGreaterThanOrEqual(200);
    await m.stop();
    client.end(true);
    const history = new HistoryRecorder({ dir: dataDir });
    try {
      const recorded = new Set((await history.listSeries()).map((s) => s.topic));
      expect(acked.filter((i) => !recorded.has(`meter/${i}`))).toEqual([]);
      console.log(
        `[figure] stop under a publishing client: ${acked.length} acknowledged, all in the history`,
      );
    } finally {
      await history.close();
    }
  }, 60_000);
});
