// `sub --json` keeps what the message carried: the receive time to the millisecond, every value of a
// repeated user property key, every subscription identifier of overlapping subscriptions.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../helpers/broker.js';
import { runCli, startCli } from '../../helpers/cli.js';

let broker: RunningBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(() => broker.close());

function subscribed(clientId: string, filter: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (id: string, added: Array<{ filter: string }>) => {
      if (id === clientId && added.some((s) => s.filter === filter)) {
        broker.broker.off('subscribe', on as never);
        resolve();
      }
    };
    broker.broker.on('subscribe', on as never);
  });
}

describe('mothership sub --json', () => {
  it('keeps repeated user property keys, every subscription identifier, and real milliseconds', async () => {
    const p = String(broker.port);
    const session = ['-h', '127.0.0.1', '-p', p, '-V', '5', '-c', '-i', 'json-sub', '-x', '300'];
    // First run: a/# with identifier 1 stays in the persistent session.
    const first = await runCli([
      'sub',
      ...session,
      '-t',
      'a/#',
      '-D',
      'subscribe',
      'subscription-identifier',
      '1',
      '-E',
    ]);
    expect(first.code).toBe(0);
    const sub = startCli([
      'sub',
      ...session,
      '-t',
      'a/b',
      '-D',
      'subscribe',
      'subscription-identifier',
      '2',
      '--json',
      '-C',
      '1',
    ]);
    await subscribed('json-sub', 'a/b');

    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    const before = Date.now();
    await pub.publishAsync('a/b', 'x', {
      qos: 1,
      properties: { userProperties: { k: ['1', '2'], one: 'only' } },
    });
    expect(await sub.exited()).toBe(0); // -C 1: it exits after the message
    const after = Date.now();
    await pub.endAsync();

    const line = JSON.parse(sub.stdout()) as { time: string; properties: Record<string, unknown> };
    expect(line.properties['user-properties']).toEqual({ k: ['1', '2'], one: 'only' });
    expect([...(line.properties['subscription-identifier'] as number[])].sort()).toEqual([1, 2]);
    expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Received between the publish and the exit (a few ms of slack between two processes' clocks);
    // a time cut to whole seconds would fall before `before`.
    const t = Date.parse(line.time);
    expect(t).toBeGreaterThanOrEqual(before - 5);
    expect(t).toBeLessThanOrEqual(after + 5);
  });
});
