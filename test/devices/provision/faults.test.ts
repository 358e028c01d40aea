// Provisioning on a bad line: noise and a running program at the start, a board that prints while
// files go up, the cable pulled in the middle of main.py. Same simulated board on a pseudo-terminal
// as provision.test.ts, same real broker.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Mothership } from '../../../src/app/mothership.js';
import { firmwareFiles } from '../../../src/devices/provision/firmware-apps.js';
import { type ProvisionOptions, provision } from '../../../src/devices/provision/provision.js';
import { sha256 } from '../../../src/devices/repl/board-files.js';
import { FIRMWARE_DIR } from '../../../src/devices/sim/board.js';
import { isMothershipError } from '../../../src/errors.js';
import { startLoopbackBroker } from '../harness/loopback-broker.js';
import { provisionOptions, type SerialBoard, serialBoard } from '../harness/serial-board.js';

let broker: Mothership;
let port: number;
const boards: SerialBoard[] = [];
/** A guard against hangs, not a deadline: a provisioning runs a whole board, slow on a loaded machine. */
const PROVISION_TIMEOUT_MS = 240_000;

/** A program already on the board that prints all the time, as the seeds' loops do. */
const CHATTY_MAIN =
  'import asyncio\nasync def m():\n    n = 0\n    while True:\n        n += 1\n        print("reading", n, "t=21.5C")\n        await asyncio.sleep_ms(5)\nasyncio.run(m())\n';

function options(sb: SerialBoard, more: Partial<ProvisionOptions> = {}): ProvisionOptions {
  return provisionOptions(sb, port, { app: 'dht', ...more });
}

async function board(opts: Parameters<typeof serialBoard>[0] = {}): Promise<SerialBoard> {
  const sb = await serialBoard(opts);
  boards.push(sb);
  return sb;
}

async function expectFirmware(sb: SerialBoard): Promise<void> {
  for (const f of await firmwareFiles(FIRMWARE_DIR, 'dht'))
    expect(sha256((await sb.board.readFile(`/${f.path}`)) ?? Buffer.alloc(0)), f.path).toBe(sha256(f.data));
}

beforeAll(async () => {
  broker = await startLoopbackBroker();
  port = broker.listeners[0]!.port;
});
afterEach(async () => {
  for (const b of boards.splice(0)) await b.close();
});
afterAll(async () => {
  await broker?.stop();
});

describe('provisioning on a bad line', () => {
  it(
    'gets the raw REPL through boot noise, a board deaf while it resets, and a program printing every 5 ms',
    async () => {
      const sb = await board({
        files: { 'main.py': CHATTY_MAIN },
        // the first tries are lost: opening the port reset the board (DTR/RTS), it is still booting
        deafMs: 1500,
        // what a boot ROM at 74880 baud looks like at 115200, and a half-typed line
        noise: '\x00\xff\xfe ets Jun  8 2016 00:22:57\r\n\x1b[0;32mrst:0x1 (POWERON_RESET)\xe0\xf8>>> imp',
      });
      const r = await provision(options(sb, { device: 'noisy' }));
      expect(r.sent).toContain('main.py');
      await expectFirmware(sb);
    },
    PROVISION_TIMEOUT_MS,
  );

  it(
    'a board that prints while the files go up still gets every byte right',
    async () => {
      const sb = await board({ chatterMs: 3 });
      const r = await provision(options(sb, { device: 'chatter' }));
      expect(r.sent.length).toBeGreaterThan(5);
      expect(sb.board.lines.filter((l) => /^tick \d+/.test(l.text)).length).toBeGreaterThan(10);
      await expectFirmware(sb);
    },
    PROVISION_TIMEOUT_MS,
  );

  it(
    'the cable pulled in the middle of main.py leaves the old main.py; provisioning again completes',
    async () => {
      const OLD = CHATTY_MAIN;
      const sb = await board({ files: { 'main.py': OLD } });
      let mainStart = -1;
      let pulled = false;
      const err = await provision(
        options(sb, {
          device: 'pulled',
          onProgress: (done, _total, file) => {
            if (file !== 'main.py' || pulled) return;
            if (mainStart < 0) mainStart = done;
            else if (done > mainStart) {
              // the first 1 KB piece of main.py is on the board: pull the cable
              pulled = true;
              void sb.pty.unplug();
            }
          },
        }),
      ).catch((e) => e);
      expect(pulled).toBe(true);
      expect(isMothershipError(err, 'MS_SERIAL_CLOSED')).toBe(true);
      expect((await sb.board.readFile('/main.py'))!.toString()).toBe(OLD);
      const part = await sb.board.readFile('/main.py.part');
      expect(part).not.toBeNull();
      expect(part!.length).toBeLessThan(2238);

      await sb.replug();
      const r = await provision(options(sb, { device: 'pulled' }));
      expect(r.sent).toContain('main.py');
      // what went up completely before the cable was pulled is not sent again
      expect(r.unchanged).toContain('lib/mothership_mqtt.py');
      await expectFirmware(sb);
      expect(await sb.board.readFile('/main.py.part')).toBeNull();
    },
    PROVISION_TIMEOUT_MS,
  );
});
