// Two boards with one device name (MQTT client id) take each other's connection over. They must
// back off instead of kicking each other off at the minimum delay forever, and say what is going
// on; and boards flashed with the example config.json must not be twins at all.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Board, FIRMWARE_DIR } from '../../src/devices/sim/board.js';
import { AP, boardConfig } from './harness/config.js';
import { bench } from './harness/fixture.js';
import { mosquittoPub } from './harness/seeds.js';

const t = bench();
const sub = t.sub;

function start(config: Record<string, unknown>, uniqueId?: string): Promise<Board> {
  return t.board({ app: 'mothership', config, accessPoints: { [AP.ssid]: AP.password }, uniqueId });
}

/** The waits a board chose before reconnecting, from its `mqtt: next attempt in N ms` lines. */
const waits = (b: Board) =>
  b.lines
    .map((l) => /^mqtt: next attempt in (\d+) ms$/.exec(l.text))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]));

describe('twins', () => {
  it('two boards with the same device name back off to the cap and report a probable twin', {
    timeout: 60_000,
  }, async () => {
    const s = await sub(['-v', '-t', 'twin/error']);
    // stable_ms longer than the test: no link between the twins ever counts as healthy
    const cfg = boardConfig('twin', t.broker.port, { interval_ms: 1000 }, { stable_ms: 60_000 });
    const a = await start(cfg);
    const b = await start(cfg);
    await s.waitFor(/^twin\/error mqtt: probable twin: another board connects as twin$/, 40_000);
    expect(
      [...a.lines, ...b.lines].some((l) => l.text === 'mqtt: probable twin: another board connects as twin'),
    ).toBe(true);
    // Each board's wait before reconnecting grows to the cap (2 s, jittered into [1, 2] s) rather
    // than staying at the minimum (0.2 s) after every CONNACK.
    const deadline = Date.now() + 40_000;
    while (!(waits(a).some((w) => w >= 1000) && waits(b).some((w) => w >= 1000))) {
      if (Date.now() > deadline) throw new Error(`waits stayed short: ${waits(a)} / ${waits(b)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(a.resets + b.resets).toBe(0);
    expect(a.wdtFired || b.wdtFired).toBe(false);
  });

  it('the example config.json names no device: each board is esp32-<unique_id>, so copies are not twins', async () => {
    const example = JSON.parse(readFileSync(join(FIRMWARE_DIR, 'config.example.json'), 'utf8'));
    expect(example.device).toBeUndefined();
    const test = boardConfig('unused', t.broker.port, { interval_ms: 500 });
    const cfg = {
      ...example,
      wifi: test.wifi,
      broker: { ...example.broker, ...(test.broker as object) },
      timing: test.timing,
    };
    const s = await sub(['-v', '-t', '+/status']);
    const one = await start(cfg, '240ac4000001');
    const two = await start(cfg, '240ac4000002');
    await s.waitFor(/^esp32-240ac4000001\/status online$/, 10_000);
    await s.waitFor(/^esp32-240ac4000002\/status online$/, 10_000);
    await one.waitFor(/^mqtt: up 1$/, 5000);
    await two.waitFor(/^mqtt: up 1$/, 5000);
    // Both get a message published after both were up, and neither lost its link on the way: a
    // twin would have been taken over when the other connected.
    await mosquittoPub(t.broker.port, ['-q', '1', '-t', 'from_mothership', '-m', 'hello both']);
    await one.waitFor(/^\('from_mothership', b'hello both'\)$/, 5000);
    await two.waitFor(/^\('from_mothership', b'hello both'\)$/, 5000);
    expect([...one.lines, ...two.lines].filter((l) => /^mqtt: (down|link lost)/.test(l.text))).toEqual([]);
    expect(s.count(/^esp32-240ac400000[12]\/status offline$/)).toBe(0);
  });
});
