// `provision` end to end without hardware: a simulated board (the real MicroPython interpreter) on a
// pseudo-terminal, holding only MicroPython, is provisioned over its raw REPL, soft-resets, runs the
// uploaded firmware and publishes `online` to a real Mothership broker on loopback.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Mothership } from '../../../src/app/mothership.js';
import { readPasswordFile, verifyPassword } from '../../../src/broker/auth/password-file.js';
import { firmwareFiles } from '../../../src/devices/provision/firmware-apps.js';
import { provision } from '../../../src/devices/provision/provision.js';
import { sha256 } from '../../../src/devices/repl/board-files.js';
import { RawRepl } from '../../../src/devices/repl/raw-repl.js';
import { SerialLink } from '../../../src/devices/serial/serial-link.js';
import { FIRMWARE_DIR } from '../../../src/devices/sim/board.js';
import { isMothershipError } from '../../../src/errors.js';
import { startLoopbackBroker } from '../harness/loopback-broker.js';
import { provisionOptions, type SerialBoard, serialBoard } from '../harness/serial-board.js';

const WIFI = { ssid: 'lab', password: 'lab-password' };
let dir: string;
let broker: Mothership;
let port: number;
const boards: SerialBoard[] = [];
/** A guard against hangs, not a deadline: a provisioning runs a whole board, slow on a loaded machine. */
const PROVISION_TIMEOUT_MS = 240_000;

const options = provisionOptions;

async function board(opts: Parameters<typeof serialBoard>[0] = {}): Promise<SerialBoard> {
  const sb = await serialBoard(opts);
  boards.push(sb);
  return sb;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'provision-'));
  broker = await startLoopbackBroker();
  port = broker.listeners[0]!.port;
});
afterEach(async () => {
  for (const b of boards.splice(0)) await b.close();
});
afterAll(async () => {
  await broker?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('mothership provision over a serial line', () => {
  it(
    'takes a board with only MicroPython to online, every file verified; re-provisioning sends nothing',
    async () => {
      const sb = await board({ uniqueId: '240ac4a1b2c3' });
      const progress: number[] = [];
      const t0 = Date.now();
      const r = await provision(options(sb, port, { onProgress: (done) => progress.push(done) }));
      const firstMs = Date.now() - t0;
      expect(r.device).toBe('mothership-a1b2c3');
      expect(r.rawPaste).toBe(false); // this board answers as a firmware without raw-paste
      expect(r.unchanged).toEqual([]);
      expect(r.boot.some((l) => /mqtt: connecting to 127\.0\.0\.1/.test(l))).toBe(true);
      expect(progress.at(-1)).toBe(r.bytesSent);
      // what is on the board is byte for byte what was sent
      for (const f of await firmwareFiles(FIRMWARE_DIR, 'mothership'))
        expect(sha256((await sb.board.readFile(`/${f.path}`))!)).toBe(sha256(f.data));
      const config = JSON.parse((await sb.board.readFile('/config.json'))!.toString());
      expect(config).toMatchObject({
        device: 'mothership-a1b2c3',
        wifi: [WIFI],
        broker: { host: '127.0.0.1', port },
      });
      expect(await sb.board.readFile('/main.py.part')).toBeNull();

      const t1 = Date.now();
      const again = await provision(options(sb, port));
      const secondMs = Date.now() - t1;
      expect(again.sent).toEqual([]);
      expect(again.bytesSent).toBe(0);
      expect(again.unchanged).toEqual(r.sent);
      console.log(
        `[figure] provision, blank board to online: ${firstMs} ms (${r.bytesSent} bytes, plain raw REPL); unchanged board: ${secondMs} ms`,
      );
    },
    PROVISION_TIMEOUT_MS,
  );

  it(
    'uses raw-paste mode where the board has it',
    async () => {
      const sb = await board({ rawPaste: true });
      const r = await provision(options(sb, port, { device: 'paste-board' }));
      expect(r.rawPaste).toBe(true);
      expect(r.sent).toContain('main.py');
      const main = (await firmwareFiles(FIRMWARE_DIR, 'mothership')).find((f) => f.path === 'main.py')!;
      expect((await sb.board.readFile('/main.py'))!.equals(main.data)).toBe(true);
    },
    PROVISION_TIMEOUT_MS,
  );

  it(
    'on a build without hashlib, verifies by reading the files back; re-provisioning still sends nothing',
    async () => {
      // MicroPython looks for an extensible built-in such as hashlib on the filesystem first: this
      // file makes `import hashlib` fail as on a build compiled without it.
      const sb = await board({
        files: { 'hashlib.py': 'raise ImportError("no module named \'hashlib\'")\n' },
      });
      const link = await SerialLink.open(sb.pty.host);
      try {
        const repl = new RawRepl(link);
        await repl.enter();
        expect((await repl.exec('import hashlib')).err).toMatch(/ImportError: no module named 'hashlib'/);
      } finally {
        await link.close();
      }
      const r = await provision(options(sb, port, { device: 'no-hashlib' }));
      expect(r.sent).toContain('main.py');
      for (const f of await firmwareFiles(FIRMWARE_DIR, 'mothership'))
        expect(sha256((await sb.board.readFile(`/${f.path}`))!)).toBe(sha256(f.data));
      const again = await provision(options(sb, port, { device: 'no-hashlib' }));
      expect(again.sent).toEqual([]);
      expect(again.unchanged).toEqual(r.sent);
    },
    PROVISION_TIMEOUT_MS,
  );

  it(
    "gives the board its own user in the broker's password file and an ACL limited to its topics",
    async () => {
      const passwd = join(dir, 'passwd');
      const acl = join(dir, 'acl');
      await writeFile(passwd, '');
      await writeFile(acl, 'topic read #\n');
      const conf = join(dir, 'auth.conf');
      await writeFile(conf, `listener 0 127.0.0.1\npassword_file ${passwd}\nacl_file ${acl}\n`);
      const secure = await startLoopbackBroker(conf);
      try {
        const p = secure.listeners[0]!.port;
        const sb = await board();
        const r = await provision(
          options(sb, p, {
            app: 'dht',
            passwordFile: passwd,
            aclFile: acl,
            reloadBroker: () => secure.reload(),
          }),
        );
        const config = JSON.parse((await sb.board.readFile('/config.json'))!.toString());
        expect(config.broker.user).toBe(r.device);
        const stored = (await readPasswordFile(passwd)).get(r.device)!;
        expect(await verifyPassword(stored, config.broker.password)).toBe(true);
        expect(await readFile(acl, 'utf8')).toContain(
          `user ${r.device}\ntopic readwrite ${r.device}/#\ntopic read output\ntopic write testincr\n`,
        );
        // again: the same login is kept, so config.json is unchanged and nothing is sent
        const again = await provision(options(sb, p, { app: 'dht', passwordFile: passwd, aclFile: acl }));
        expect(again.sent).toEqual([]);
      } finally {
        await secure.stop();
      }
    },
    PROVISION_TIMEOUT_MS,
  );

  it(
    'a running broker that does not know the new user yet: provision says to reload it, waits, and the board comes online',
    async () => {
      const passwd = join(dir, 'passwd-stale');
      await writeFile(passwd, '');
      const conf = join(dir, 'stale.conf');
      await writeFile(conf, `listener 0 127.0.0.1\npassword_file ${passwd}\n`);
      const secure = await startLoopbackBroker(conf);
      try {
        const p = secure.listeners[0]!.port;
        const sb = await board();
        const steps: string[] = [];
        let asked: () => void = () => {};
        const askedToReload = new Promise<void>((r) => {
          asked = r;
        });
        // no reloadBroker: the running broker still has the empty password file
        const run = provision(
          options(sb, p, {
            device: 'new-user',
            passwordFile: passwd,
            onStep: (s) => {
              steps.push(s);
              if (/does not know new-user yet: reload it now/.test(s)) asked();
            },
          }),
        );
        await askedToReload;
        await secure.reload(); // what `kill -HUP` does to `mothership up`
        const r = await run;
        expect(r.device).toBe('new-user');
        expect(steps.some((s) => /user new-user added to/.test(s))).toBe(true);
      } finally {
        await secure.stop();
      }
    },
    PROVISION_TIMEOUT_MS,
  );

  it(
    "says the board could not join Wi-Fi, from the board's own messages",
    async () => {
      const sb = await board();
      const err = await provision(
        options(sb, port, { device: 'no-wifi', wifi: { ssid: 'lab', password: 'wrong' } }),
      ).catch((e) => e);
      expect(isMothershipError(err, 'MS_PROVISION_FAILED')).toBe(true);
      expect(err.message).toMatch(/could not join the Wi-Fi network lab/);
    },
    PROVISION_TIMEOUT_MS,
  );

  it(
    'with no broker to watch, fails before sending anything',
    async () => {
      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const dead = (closed.address() as { port: number }).port;
      await new Promise((r) => closed.close(r));
      const sb = await board();
      const sent: string[] = [];
      const err = await provision(
        options(sb, dead, { device: 'no-broker', onProgress: (_d, _t, f) => sent.push(f) }),
      ).catch((e) => e);
      expect(isMothershipError(err, 'MS_PROVISION_FAILED')).toBe(true);
      expect(err.message).toContain(`cannot watch for the board on the broker at 127.0.0.1:${dead}`);
      expect(sent).toEqual([]);
      expect(await sb.board.readFile('/main.py')).toBeNull();
    },
    PROVISION_TIMEOUT_MS,
  );
});
