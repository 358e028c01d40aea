import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Authorizer } from '../../src/index.js';
import { type RunningBroker, startBroker } from '../helpers/broker.js';
import { killAll, run, start } from './helpers/process.js';

/**
 * Eclipse paho-mqtt for Python (Debian's python3-paho-mqtt 1.6.1, the library of many Raspberry Pi and
 * Home Assistant-style scripts), MQTTv311 and MQTTv5, against the real broker. The scenarios live in
 * python/paho_scenarios.py; each prints what it observed as JSON.
 */

// Debian's interpreter, where python3-paho-mqtt is installed (not a pyenv python3 on PATH).
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./python/paho_scenarios.py', import.meta.url));

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

let n = 0;
function args(version: 4 | 5, name: string, extra: Record<string, unknown> = {}) {
  n++;
  return {
    port: b.port,
    wsPort: b.wsPort,
    version,
    id: `paho-${version}-${name}-${n}`,
    topic: `paho/${name}/${n}`,
    ...extra,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: JSON from the scenario script
async function scenario(name: string, a: Record<string, unknown>): Promise<any> {
  const r = await run(PYTHON, [SCRIPT, name, JSON.stringify(a)], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`paho scenario ${name} failed (${r.code}): ${r.stderr}${r.stdout}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}

it('Debian python3 has paho-mqtt 1.6.x', async () => {
  expect(existsSync(PYTHON)).toBe(true);
  const r = await run(PYTHON, ['-c', 'import paho.mqtt; print(paho.mqtt.__version__)']);
  expect(r.stdout.trim()).toMatch(/^1\.6\./);
});

describe.each([4, 5] as const)('paho-mqtt %s', (version) => {
  const versionName = version === 5 ? 'MQTTv5' : 'MQTTv311';

  const roundTrip = async (qos: 0 | 1 | 2) => {
    const r = await scenario('roundtrip', args(version, `rt${qos}`, { qos }));
    expect(r.connack).toEqual([0, 0]);
    expect(r.granted).toEqual([2]);
    expect(r.message.payload).toBe(`paho q${qos}`);
    expect(r.message.qos).toBe(qos);
    expect(r.message.retain).toBe(false);
  };
  it(`[MQTT-4.3.1] ${versionName}: QoS 0 round trip over TCP`, () => roundTrip(0));
  it(`[MQTT-4.3.2] ${versionName}: QoS 1 round trip over TCP`, () => roundTrip(1));
  // v5: paho 1.6.1 only reads the short PUBREL form (no reason code) [MQTT-3.6.2-1].
  it(`[MQTT-4.3.3] ${versionName}: QoS 2 round trip over TCP`, () => roundTrip(2));

  it(`${versionName}: QoS 1 round trip over WebSocket /mqtt`, async () => {
    const r = await scenario('roundtrip', args(version, 'ws', { qos: 1, transport: 'websockets' }));
    expect(r.connack).toEqual([0, 0]);
    expect(r.message.payload).toBe('paho q1');
    expect(r.message.qos).toBe(1);
  });

  it(`[MQTT-3.3.1-5] ${versionName}: retained message delivered on subscribe`, async () => {
    const r = await scenario('retained', args(version, 'retained'));
    expect(r.message).toMatchObject({ payload: 'kept', retain: true, qos: 1 });
  });

  it(`[MQTT-3.1.2-8] ${versionName}: will published when the paho process dies`, async () => {
    const a = args(version, 'will');
    const watcher = start(PYTHON, [SCRIPT, 'watch', JSON.stringify({ ...a, id: `${a.id}-w` })]);
    await watcher.waitOutput(/"subscribed": true/);
    const dying = start(PYTHON, [SCRIPT, 'will_client', JSON.stringify(a)]);
    await dying.waitOutput(/"connected": true/);
    dying.kill();
    expect(await watcher.exited).toBe(0);
    const r = JSON.parse(watcher.stdout.trim().split('\n').pop()!);
    expect(r.messages[0]).toMatchObject({ topic: a.topic, payload: 'paho died', qos: 1 });
  });

  it(`[MQTT-3.9.3] ${versionName}: SUBACK reason codes for granted, invalid and denied filters`, async () => {
    const r = await scenario('reason_codes', args(version, 'codes'));
    expect(r.granted).toEqual(version === 5 ? [2, 0x8f, 0x87] : [2, 0x80, 0x80]);
    if (version === 5) expect(r.puback).toBe(0x87);
    expect(r.after).toEqual([1]);
  });

  it(`[MQTT-3.1.2-4] ${versionName}: persistent session resumes with queued QoS 1 messages`, async () => {
    const r = await scenario('session', args(version, 'session'));
    expect(r.sessionPresent).toEqual([false, true]);
    expect(r.messages.map((m: { payload: string }) => m.payload)).toEqual([
      'queued 0',
      'queued 1',
      'queued 2',
    ]);
  });

  it(`[MQTT-3.3.2-2] ${versionName}: a PUBLISH topic with a wildcard closes the connection`, async () => {
    const r = await scenario('protocol_violation', args(version, 'violation'));
    // paho 1.6.1 only reports a server DISCONNECT's reason code when it has properties, so only the
    // close is checked here; test/broker/bad-input.test.ts checks the DISCONNECT 0x90 byte for byte.
    expect(r.closed).toBe(true);
  });
});

it('[MQTT-3.3.2-15..20] MQTTv5: publish properties and subscription identifier round trip', async () => {
  const r = await scenario('v5_properties', args(5, 'props'));
  const p = r.message.properties;
  expect(r.message.payload).toBe('t=24.1C, h=26.5%.');
  expect(p.UserProperty).toEqual([
    ['unit', 'C'],
    ['sensor', 'dht22'],
  ]);
  expect(p.ContentType).toBe('text/plain');
  expect(p.ResponseTopic).toBe(`${r.message.topic}/reply`);
  expect(p.CorrelationData).toEqual([1, 2, 255]);
  expect(p.PayloadFormatIndicator).toBe(1);
  expect(p.MessageExpiryInterval).toBeGreaterThan(110);
  expect(p.MessageExpiryInterval).toBeLessThanOrEqual(120);
  expect(p.SubscriptionIdentifier).toEqual([99]);
});
