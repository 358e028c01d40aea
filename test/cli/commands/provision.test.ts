// `mothership provision` and `mothership device` as a user runs them (the built CLI in its own
// process), against a simulated board on a pseudo-terminal and a real broker on loopback.
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mothership } from '../../../src/app/mothership.js';
import { Board } from '../../../src/devices/sim/board.js';
import { SimulatedRomLoader } from '../../devices/flash/rom-loader-sim.js';
import { startLoopbackBroker } from '../../devices/harness/loopback-broker.js';
import { ptyPair, type SerialBoard, serialBoard } from '../../devices/harness/serial-board.js';
import { runCli, startCli } from '../../helpers/cli.js';

let broker: Mothership;
let port: number;
let sb: SerialBoard;

beforeAll(async () => {
  broker = await startLoopbackBroker();
  port = broker.listeners[0]!.port;
  sb = await serialBoard({ rawPaste: true });
});
afterAll(async () => {
  await sb?.close();
  await broker?.stop();
});

describe('mothership provision / device', () => {
  it('provisions the board in one command, prints its boot output, and returns once it is online', async () => {
    const r = await runCli(
      [
        'provision',
        '--port',
        sb.pty.host,
        '--app',
        'led-remote',
        '--ssid',
        'lab',
        '--password',
        'lab-password',
        '--name',
        'cli-board',
        '--broker',
        '127.0.0.1',
        '--mqtt-port',
        String(port),
      ],
      { timeoutMs: 200_000 },
    );
    expect(r.stderr).toMatch(
      /cli-board is online \(\d+ file\(s\) sent, \d+ bytes, raw-paste mode; 0 unchanged\)/,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('lib/mothership_mqtt.py');
    expect(r.stdout).toMatch(/mqtt: connecting to 127\.0\.0\.1 \d+/);
  }, 240_000);

  it('device ls, cat, rm and reset work on the same line', async () => {
    const ls = await runCli(['device', 'ls', '--port', sb.pty.host]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/^lib\/$/m);
    expect(ls.stdout).toMatch(/ main\.py$/m);
    const lib = await runCli(['device', 'ls', '/lib', '--port', sb.pty.host]);
    expect(lib.stdout).toMatch(/ mothership_mqtt\.py$/m);
    const cat = await runCli(['device', 'cat', 'config.json', '--port', sb.pty.host]);
    expect(JSON.parse(cat.stdout)).toMatchObject({ device: 'cli-board', broker: { port } });
    expect((await runCli(['device', 'rm', 'boot.py', '--port', sb.pty.host])).code).toBe(0);
    expect(await sb.board.readFile('/boot.py')).toBeNull();
    const again = await runCli(['device', 'rm', 'boot.py', '--port', sb.pty.host]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no file boot.py on the board');
    const t = Date.now();
    expect((await runCli(['device', 'reset', '--port', sb.pty.host])).code).toBe(0);
    await sb.board.waitFor(/MPY: soft reboot/, 20_000, t);
  }, 240_000);

  it("device repl: the board's REPL on the terminal, Ctrl-] leaves", async () => {
    const term = startCli(['device', 'repl', '--port', sb.pty.host]);
    await term.waitFor(/Ctrl-\] to leave/);
    // the board runs main.py: Ctrl-C stops it, then a line for the friendly REPL
    term.child.stdin!.write('\x03');
    await term.waitFor(/>>> /);
    term.child.stdin!.write('print(6 * 7)\r');
    await term.waitFor(/^42\r?$/m);
    term.child.stdin!.write('\x1d');
    expect(await term.exited()).toBe(0);
  }, 120_000);

  it('says clearly what is wrong: an unknown app, no board on USB', async () => {
    const app = await runCli(['provision', '--app', 'blinky', '--port', sb.pty.host]);
    expect(app.code).toBe(1);
    expect(app.stderr).toContain(
      "--app must be one of dht, led-remote, conversation, mothership, got 'blinky'",
    );
    const image = await runCli([
      'provision',
      '--micropython',
      '/nonexistent/micropython.bin',
      '--port',
      sb.pty.host,
    ]);
    expect(image.code).toBe(1);
    expect(image.stderr).toContain('--micropython /nonexistent/micropython.bin: no such readable file');
    const cat = await runCli(['device', 'cat']);
    expect(cat.stderr).toContain('cat needs a file name');
    // no USB serial bridge on the test machine
    const none = await runCli(['device', 'ls']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no ESP32 board found on USB');
    expect(none.stderr).toContain("'dialout' group");
    const unplugged = await runCli(['provision', '--ssid', 'lab', '--password', 'lab-password']);
    expect(unplugged.code).toBe(1);
    expect(unplugged.stderr).toContain('no ESP32 board found on USB');
    expect(unplugged.stderr).toContain('sudo usermod -aG dialout $USER');
  }, 120_000);
});

describe('mothership provision -c with a TLS listener', () => {
  it('puts the CA beside the certfile on the board as ca.crt, and the board comes online over TLS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ms-provision-tls-'));
    expect((await runCli(['certs', '--out', dir], { timeoutMs: 30_000 })).code).toBe(0);
    const conf = join(dir, 'mothership.conf');
    writeFileSync(
      conf,
      `listener 0 127.0.0.1\ncertfile ${join(dir, 'server.crt')}\nkeyfile ${join(dir, 'server.key')}\nallow_anonymous true\n`,
    );
    // only a TLS listener: a board that did not verify the broker with the CA never gets online
    const tls = await startLoopbackBroker(conf);
    const tlsBoard = await serialBoard({ rawPaste: true });
    try {
      const tlsPort = tls.listeners[0]!.port;
      const r = await runCli(
        [
          'provision',
          '-c',
          conf,
          '--port',
          tlsBoard.pty.host,
          '--ssid',
          'lab',
          '--password',
          'lab-password',
          '--name',
          'tls-board',
          '--broker',
          '127.0.0.1',
          '--mqtt-port',
          String(tlsPort),
          '--timeout',
          '150',
        ],
        { timeoutMs: 200_000 },
      );
      expect(r.stderr).toContain(`the board will connect to 127.0.0.1:${tlsPort} over TLS`);
      expect(r.stderr).toMatch(/tls-board is online/);
      expect(r.code).toBe(0);
      const ca = readFileSync(join(dir, 'ca.crt'));
      expect((await tlsBoard.board.readFile('/ca.crt'))!.equals(ca)).toBe(true);
      const config = JSON.parse((await tlsBoard.board.readFile('/config.json'))!.toString());
      expect(config.broker).toMatchObject({ host: '127.0.0.1', port: tlsPort, ca: 'ca.crt' });
      // the board's own TLS handshake: with the CA it was given (the firmware hands mbedTLS its DER),
      // verified, to the address it was given
      const hs = tlsBoard.board.tls.filter((h) => h.ok);
      expect(hs.length).toBeGreaterThan(0);
      expect(hs[0]).toMatchObject({
        ca: new X509Certificate(ca).raw.toString('hex'),
        hostname: '127.0.0.1',
        verifyMode: 2,
        authorized: true,
      });
    } finally {
      await tlsBoard.close();
      await tls.stop();
    }
  }, 240_000);
});

/** Opens one end of a pseudo-terminal with the real serialport package, as the board's UART. */
function openSerial(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const p = new SerialPort({ path, baudRate: 115200 }, (err) => (err ? reject(err) : resolve(p)));
  });
}

const MICROPYTHON_ARGS = (port: string, mqtt: number, image: string) => [
  'provision',
  '--port',
  port,
  '--ssid',
  'lab',
  '--password',
  'lab-password',
  '--name',
  'blank-board',
  '--broker',
  '127.0.0.1',
  '--mqtt-port',
  String(mqtt),
  '--micropython',
  image,
];

describe('mothership provision --micropython', () => {
  it('from a blank chip: flashes by hand through the ROM bootloader (a pty has no DTR/RTS), then provisions the new MicroPython until online', async () => {
    // The chip behind the line: first its ROM bootloader (BOOT held, as the hint asks), then, once the
    // user taps EN, MicroPython (the interpreter board) on the same line.
    const pty = await ptyPair();
    const rom = await openSerial(pty.board);
    rom.on('error', () => {});
    const loader = new SimulatedRomLoader(rom, { chip: 'ESP32', noAutoReset: true, heldInBootloader: true });
    let board: Board | undefined;
    const image = Buffer.concat([Buffer.from([0xe9, 0x03, 0x02, 0x20]), randomBytes(60_000)]);
    const file = join(mkdtempSync(join(tmpdir(), 'ms-image-')), 'micropython.bin');
    writeFileSync(file, image);
    const cli = startCli(MICROPYTHON_ARGS(pty.host, port, file));
    try {
      await cli.waitFor(/no MicroPython answered: flashing /, 120_000);
      await cli.waitFor(/cannot set DTR\/RTS .*: hold BOOT, tap EN\/RESET, then release BOOT now/, 60_000);
      await cli.waitFor(/written and verified: tap EN\/RESET to start it/, 120_000);
      // the image the chip received is the image given, byte for byte, where an ESP32 boots from
      expect(Buffer.from(loader.flash.subarray(0x1000, 0x1000 + image.length)).equals(image)).toBe(true);
      // EN tapped: the ROM lets go of the line and MicroPython boots on it
      await new Promise<void>((r) => rom.close(() => r()));
      board = await Board.start({
        app: 'mothership',
        config: {},
        accessPoints: { lab: 'lab-password' },
        serial: { path: pty.board },
      });
      expect(await cli.exited()).toBe(0);
      expect(cli.stderr()).toMatch(/blank-board is online \(\d+ file\(s\) sent/);
      expect(await board.readFile('/main.py')).not.toBeNull();
    } finally {
      await cli.stop();
      await board?.stop();
      if (rom.isOpen) await new Promise<void>((r) => rom.close(() => r()));
      await pty.unplug();
    }
  }, 300_000);

  it('without a board in its bootloader, says the port cannot reset it and which buttons to press', async () => {
    // A line with nothing behind it: no raw REPL answers, the flasher cannot reset the chip (no
    // DTR/RTS on a pty) and nobody holds BOOT.
    const pty = await ptyPair();
    try {
      const image = join(mkdtempSync(join(tmpdir(), 'ms-image-')), 'micropython.bin');
      writeFileSync(image, Buffer.alloc(4096, 0xe9));
      const r = await runCli(MICROPYTHON_ARGS(pty.host, port, image), { timeoutMs: 200_000 });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`no MicroPython answered: flashing ${image}`);
      expect(r.stderr).toMatch(
        /no answer from the ESP32 bootloader, and this port cannot reset the board \(no DTR\/RTS\): hold BOOT, tap EN\/RESET, then release BOOT, then run this again/,
      );
      expect(r.stderr).not.toContain('No flasher');
    } finally {
      await pty.unplug();
    }
  }, 240_000);
});
