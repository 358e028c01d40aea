import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { mothershipDirectives } from '../../src/app/config-file.js';
import { parseConfig } from '../../src/config/mosquitto-conf.js';
import { historyConfigOf } from '../../src/hub/history/history-directives.js';
import { cleanup, hubUp } from './helpers.js';

afterAll(cleanup);

describe('history over the API, with no configuration', () => {
  it("seed 004's DHT lines become series with units, charted, exported as CSV, and kept as messages", async () => {
    const { base, mqttUrl } = await hubUp();
    const board = await mqtt.connectAsync(mqttUrl, { clientId: 'dht', reconnectPeriod: 0 });
    for (const [t, h] of [
      ['24.1', '26.5'],
      ['24.3', '26.1'],
      ['24.0', '27.0'],
    ])
      await board.publishAsync('testincr', `t=${t}C, h=${h}%.`, { qos: 1 });
    await board.endAsync();

    const list = (await (await fetch(`${base}/api/series?filter=testincr`)).json()) as {
      series: { field: string; unit: string | null }[];
    };
    expect(list.series).toEqual([
      { topic: 'testincr', path: ['h'], field: '/h', unit: '%' },
      { topic: 'testincr', path: ['t'], field: '/t', unit: '°C' },
    ]);
    const points = (await (
      await fetch(`${base}/api/series/points?topic=testincr&field=/t&width=100`)
    ).json()) as {
      unit: string;
      points: { avg: number }[];
    };
    expect(points.unit).toBe('°C');
    expect(points.points.map((p) => p.avg)).toEqual([24.1, 24.3, 24]);

    const csv = await fetch(`${base}/api/export?topic=testincr&field=/t&format=csv`);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="testincr_t.csv"');
    const lines = (await csv.text()).trimEnd().split('\r\n');
    expect(lines[0]).toBe('time,epoch_ms,topic,field,value,unit');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,\d+,testincr,\/t,24\.1,°C$/);

    const nd = await (await fetch(`${base}/api/export?topic=testincr&format=ndjson`)).text();
    expect(nd.trim().split('\n')).toHaveLength(6); // both series

    const log = (await (await fetch(`${base}/api/messages?topic=testincr`)).json()) as {
      messages: { payload: string; qos: number; clientId: string }[];
    };
    expect(log.messages.map((m) => m.payload)).toEqual([
      't=24.0C, h=27.0%.',
      't=24.3C, h=26.1%.',
      't=24.1C, h=26.5%.',
    ]);
    expect(log.messages[0]).toMatchObject({ qos: 1, clientId: 'dht' });

    expect((await fetch(`${base}/api/series/points?topic=testincr&field=/nope`)).status).toBe(404);
    expect((await fetch(`${base}/api/export?topic=testincr&format=xml`)).status).toBe(400);
  }, 30_000);

  it('history false in the config turns the recorder and its endpoints off', async () => {
    const { base } = await hubUp(
      'listener 0 127.0.0.1\nlistener 0 127.0.0.1\nprotocol websockets\nhistory false\n',
    );
    expect((await fetch(`${base}/api/messages?topic=a`)).status).toBe(404);
    expect((await fetch(`${base}/api/devices`)).status).toBe(200);
  }, 30_000);
});

describe('history directives in mosquitto.conf syntax', () => {
  it('are read into the history settings, with file:line errors', () => {
    const c = parseConfig(
      'history_include sensors/#\nhistory_exclude sensors/debug/#\nhistory_retention sensors/# raw=30d hour=forever\nhistory_max_size 200mb\nhistory_messages_per_topic 500\n',
      '/x/m.conf',
      mothershipDirectives(),
    );
    expect(c.warnings).toEqual([]);
    expect(historyConfigOf(c)).toEqual({
      enabled: true,
      include: ['sensors/#'],
      exclude: ['sensors/debug/#'],
      retention: [{ filter: 'sensors/#', raw: 30 * 86_400_000, hour: Number.POSITIVE_INFINITY }],
      maxBytes: 200 * 1024 * 1024,
      messagesPerTopic: 500,
    });
    expect(() =>
      parseConfig('history_retention a/# raw=soon\n', '/x/m.conf', mothershipDirectives()),
    ).toThrow(
      /^\/x\/m\.conf:1: history_retention must be a topic filter followed by raw=, minute= and\/or hour= durations .*, got 'raw=soon'$/,
    );
  });
});
