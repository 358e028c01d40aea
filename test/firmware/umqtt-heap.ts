// The heap figure of firmware/README.md for the seeds' own client: micropython-lib's umqtt.simple
// running seed 003 (fixtures/umqtt_seed003.py), measured as heap.test.ts measures our apps:
// gc.mem_alloc() after gc.collect() between messages, minus the same figure before the seed's code
// was imported. umqtt.simple is not part of this repository; give the path of its umqtt/simple.py:
//
//   npx tsx test/firmware/umqtt-heap.ts path/to/micropython-lib/micropython/umqtt.simple/umqtt/simple.py
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Board } from '../../src/devices/sim/board.js';
import { AP, boardConfig } from './harness/config.js';

const simple = process.argv[2];
if (!simple) {
  console.error('usage: npx tsx test/firmware/umqtt-heap.ts path/to/umqtt/simple.py');
  process.exit(2);
}
const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const b = await Board.start({
  app: 'mothership',
  main: join(fixtures, 'umqtt_main.py'),
  config: boardConfig('unused', 1, {}),
  accessPoints: { [AP.ssid]: AP.password },
  files: {
    'lib/umqtt/__init__.py': '',
    'lib/umqtt/simple.py': readFileSync(simple, 'utf8'),
    'umqtt_playback.py': readFileSync(join(fixtures, 'umqtt_playback.py'), 'utf8'),
    'umqtt_seed003.py': readFileSync(join(fixtures, 'umqtt_seed003.py'), 'utf8'),
  },
});
try {
  await b.waitFor(/^Connected to 127\.0\.0\.1 MQTT broker/, 10_000);
  const samples: number[] = [];
  for (let i = 0; i < 4; i++) {
    const h = await b.heapUse();
    samples.push(h.raw - Number(await b.eval('main.base')));
    await b.eval('None', 'main.umqtt_seed003.loop(2)');
  }
  console.log(
    `[figure] heap umqtt.simple + seed 003: ${Math.min(...samples)} B at steady state, plain gc.mem_alloc() (samples ${samples.join(', ')})`,
  );
} finally {
  await b.stop();
}
