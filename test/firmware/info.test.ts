// Every board publishes a retained <device>/info after <device>/status online at each connect: the
// app, the firmware version, its IP address and Wi-Fi signal, free heap, the reset cause, the pins
// it uses and its topics. A board that reconnects publishes it again with what changed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Board, BoardOptions } from '../../src/devices/sim/board.js';
import { AP, boardConfig } from './harness/config.js';
import { bench } from './harness/fixture.js';
import { mosquittoPub, mosquittoSub } from './harness/seeds.js';
import { until } from './harness/wait.js';

const t = bench();
const VERSION = JSON.parse(readFileSync('package.json', 'utf8')).version as string;

interface Info {
  app: string;
  fw: string;
  ip: string | null;
  rssi: number | null;
  heap: number;
  reset: string;
  pins: Record<string, number>;
  pub: string[];
  sub: string[];
}

/** The retained <device>/info as a subscriber arriving now gets it, with the flags it came with. */
async function retainedInfo(device: string): Promise<{ info: Info; raw: string; flags: string }> {
  const s = await mosquittoSub(t.broker.port, ['-v', '--retained-only', '-C', '1', '-t', `${device}/info`]);
  try {
    const line = await s.waitFor(new RegExp(`^${device}/info \\{`), 5000);
    const flags = s.lines.find((l) => /received PUBLISH/.test(l) && l.includes(`'${device}/info'`)) ?? '';
    const raw = line.slice(device.length + 6);
    return { info: JSON.parse(raw) as Info, raw, flags };
  } finally {
    s.stop();
  }
}

function start(app: BoardOptions['app'], device: string, appCfg: Record<string, unknown>, pins?: object) {
  const config = boardConfig(device, t.broker.port, appCfg);
  if (pins) config.pins = pins;
  return t.board({ app, config, accessPoints: { [AP.ssid]: AP.password } });
}

const cases: [BoardOptions['app'], Record<string, unknown>, Partial<Info>][] = [
  [
    'conversation',
    { role: 'machine1', interval_ms: 1000 },
    { pins: { led: 2 }, pub: ['hello'], sub: ['notification'] },
  ],
  [
    'led_remote',
    { name: 'blue', peer: 'green', interval_ms: 1000 },
    { pins: { button: 0, led: 2 }, pub: ['blue/btn/0'], sub: ['green/btn/0'] },
  ],
  ['mothership', { interval_ms: 1000 }, { pins: {}, pub: ['to_mothership'], sub: ['from_mothership'] }],
];

describe('<device>/info', () => {
  for (const [app, appCfg, want] of cases) {
    it(`${app}: retained, QoS 0, after status online, with the app's pins and topics`, async () => {
      const device = `esp32-info-${app.replace('_', '-')}`;
      const live = await t.sub(['-v', '-t', `${device}/status`, '-t', `${device}/info`]);
      const b = await start(app, device, appCfg);
      await b.waitFor(/^mqtt: up 1$/, 10_000);
      await live.waitFor(new RegExp(`^${device}/info `), 5000);
      const order = live.lines.filter((l) => l.startsWith(`${device}/`)).map((l) => l.split(' ')[0]);
      expect(order.slice(0, 2)).toEqual([`${device}/status`, `${device}/info`]);

      const { info, raw, flags } = await retainedInfo(device);
      expect(flags).toMatch(/\(d0, q0, r1,/); // retained, published at QoS 0
      expect(raw).not.toMatch(/[:,] /); // compact JSON
      expect(info).toEqual({
        app,
        fw: VERSION,
        ip: '192.168.4.23',
        rssi: -58,
        heap: info.heap,
        reset: 'power-on',
        ...want,
      });
      expect(info.heap).toBeGreaterThan(10_000); // free heap, bytes
      expect(Number.isInteger(info.heap)).toBe(true);
    });
  }

  it('dht: the pins are those config.json sets, and the LED follows them', async () => {
    const device = 'esp32-info-dht';
    const b = await start('dht', device, { interval_ms: 1000 }, { led: 4, dht: 15 });
    await b.waitFor(/^mqtt: up 1$/, 10_000);
    const { info } = await retainedInfo(device);
    expect(info).toMatchObject({
      app: 'dht',
      pins: { led: 4, dht: 15, soil: 36 },
      pub: ['testincr', `${device}/soil`],
      sub: ['output'],
    });
    await mosquittoPub(t.broker.port, ['-q', '1', '-t', 'output', '-m', 'on']);
    await until(() => b.pins.get(4) === 1, 5000, 'the LED on GPIO4');
    expect(b.pins.get(2)).toBeUndefined();
  });

  it('is published again at every connect, with the new address, signal and reset cause', {
    timeout: 40_000,
  }, async () => {
    const device = 'esp32-info-again';
    const live = await t.sub(['-v', '-t', `${device}/status`, '-t', `${device}/info`]);
    const b: Board = await t.board({
      app: 'mothership',
      config: boardConfig(device, t.broker.port, { interval_ms: 1000 }),
      accessPoints: { [AP.ssid]: AP.password },
      resetCause: 3,
    });
    await b.waitFor(/^mqtt: up 1$/, 10_000);
    const first = (await retainedInfo(device)).info;
    expect(first).toMatchObject({ ip: '192.168.4.23', rssi: -58, reset: 'watchdog' });

    b.wifiOff();
    await b.waitFor(/^mqtt: down$/, 5000);
    b.setStation({ rssi: -71, ip: '192.168.4.57' }); // another access point, another lease
    const back = Date.now();
    b.wifiOn();
    await b.waitFor(/^mqtt: up 2$/, 15_000, back);
    await until(
      () => live.lines.filter((l) => l.startsWith(`${device}/info `)).length >= 2,
      5000,
      'the second info',
    );
    const again = (await retainedInfo(device)).info;
    expect(again).toMatchObject({
      ip: '192.168.4.57',
      rssi: -71,
      reset: 'watchdog',
      sub: ['from_mothership'],
    });
    // each connect: online first, then the info
    const seq = live.lines
      .filter((l) => /^esp32-info-again\/(status online|info )/.test(l))
      .map((l) => (l.includes('/status') ? 'online' : 'info'));
    expect(seq.slice(0, 4)).toEqual(['online', 'info', 'online', 'info']);
  });
});
