// A message bigger than the board can hold (config.json broker.msg_max, 4096 B by default) is read
// past in small pieces without being allocated, reported once on <device>/error, and never drops
// the link: not a retained 96 KB message that arrives at every subscribe, not a 24 KB one live.
import { expect, it } from 'vitest';
import { ESP32_HEAP } from '../../src/devices/sim/board.js';
import { AP, boardConfig } from './harness/config.js';
import { bench } from './harness/fixture.js';
import { mosquittoPub } from './harness/seeds.js';

const t = bench();

it('skips messages over msg_max without dropping the link, and still takes those under it', {
  timeout: 60_000,
}, async () => {
  const pub = (...args: string[]) => mosquittoPub(t.broker.port, args);
  await pub('-r', '-q', '1', '-t', 'from_mothership', '-m', 'r'.repeat(96 * 1024));
  const errors = await t.sub(['-v', '-t', 'esp32-big/error']);
  const b = await t.board({
    app: 'mothership',
    config: boardConfig('esp32-big', t.broker.port, { interval_ms: 500 }),
    accessPoints: { [AP.ssid]: AP.password },
  });
  await b.waitFor(/^mqtt: up 1$/, 10_000);
  await errors.waitFor(
    /^esp32-big\/error mqtt: 98304 bytes on from_mothership over msg_max 4096, skipped$/,
    10_000,
  );

  await pub('-q', '1', '-t', 'from_mothership', '-m', 'l'.repeat(24 * 1024));
  await pub('-q', '1', '-t', 'from_mothership', '-m', 's'.repeat(4000));
  await b.waitFor(/^\('from_mothership', b's{4000}'\)$/, 10_000); // under the limit: delivered
  await pub('-t', 'from_mothership', '-m', 'received');
  await b.waitFor(/^ESP received notification from mothership!$/, 10_000);

  expect(await b.eval('main.client.too_big')).toBe(2);
  // reported once: the 24 KB one was counted, not reported again (the report is
  // QoS 1, so a retransmission may show it twice, never another text)
  expect(new Set(errors.lines.filter((l) => l.startsWith('esp32-big/error ')))).toEqual(
    new Set(['esp32-big/error mqtt: 98304 bytes on from_mothership over msg_max 4096, skipped']),
  );
  expect(
    b.lines.filter((l) => /^mqtt: (up|link lost|connect failed)/.test(l.text)).map((l) => l.text),
  ).toEqual(['mqtt: up 1']);
  expect(b.lines.some((l) => /MemoryError/.test(l.text))).toBe(false);
  expect(await b.heapTotal()).toBeLessThanOrEqual(ESP32_HEAP + 1024);
});
