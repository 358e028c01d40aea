/** `mothership provision`: flags and prompts; the work is src/devices/provision. */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { loadMothershipConfig } from '../../app/config-file.js';
import { lanAddresses } from '../../app/lan-addresses.js';
import type { LoadedConfig } from '../../config/config-types.js';
import { flashImageFile } from '../../devices/flash/index.js';
import { APPS, type AppName } from '../../devices/provision/firmware-apps.js';
import { provision } from '../../devices/provision/provision.js';
import { FIRMWARE_DIR } from '../../devices/sim/board.js';
import { choosePort } from '../choose-port.js';
import { intFlag, parseCommandArgs, usageError } from '../command-args.js';
import { progressBar } from '../progress-bar.js';
import { readCaFile } from '../read-ca.js';
import { passwordReader } from './passwd.js';

const HELP = `Usage: mothership provision [options]

Puts Mothership's firmware on an ESP32 that runs MicroPython, over USB, and follows it until the
broker sees it online: finds the board, enters its raw REPL, uploads the client library, the app and
a config.json made for this board (only files that changed), resets it and prints its boot output.

Options:
      --app NAME         dht | led-remote | conversation | mothership (default mothership)
      --port PATH        the board's serial port (default: the one ESP32 on USB; asks if several)
      --ssid NAME        Wi-Fi network the board joins (asked when not given)
      --password PASS    its password (asked when not given; never stored on this machine)
      --name DEVICE      the board's name (default: the app and the chip id, e.g. dht-a1b2c3)
      --broker ADDR      the address the board connects to (default: this machine's LAN address),
                         or 'mdns' to let the board find the broker by itself
      --mqtt-port N      the broker's port (default: the config's first MQTT listener, else 1883)
  -c, --config FILE      the broker's config (as for 'mothership up -c'): with a password_file the
                         board gets its own user; with an acl_file, rules limited to its topics;
                         with a TLS listener, the CA goes on the board
      --ca FILE          the CA certificate to give the board (default: ca.crt beside the certfile)
      --timeout S        how long to wait for the board to come online (default 60)
      --no-raw-paste     plain raw REPL only (for boards whose raw-paste mode misbehaves)
      --micropython FILE.bin  flash MicroPython first when the board has none (on a port
                         without DTR/RTS it says when to press BOOT and EN/RESET)
  -h, --help             this help

Checked against a simulated board (the MicroPython interpreter behind a pseudo-terminal), not yet on
real hardware.
`;

const OPTIONS = {
  app: { type: 'string' },
  port: { type: 'string' },
  ssid: { type: 'string' },
  password: { type: 'string' },
  name: { type: 'string' },
  broker: { type: 'string' },
  'mqtt-port': { type: 'string' },
  config: { type: 'string', short: 'c' },
  ca: { type: 'string' },
  timeout: { type: 'string' },
  'no-raw-paste': { type: 'boolean' },
  micropython: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function isReadableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The listener the board uses: the first MQTT one of the config (TLS or not). */
function boardListener(config: LoadedConfig | undefined) {
  return config?.listeners.find((l) => l.protocol === 'mqtt');
}

const readCa = (path: string) => readCaFile(path, 'the CA certificate (give it with --ca)');

async function askWifi(ssid: string | undefined, password: string | undefined) {
  if (ssid !== undefined && password !== undefined) return { ssid, password };
  if (!process.stdin.isTTY)
    throw usageError('provision', 'give the Wi-Fi network with --ssid and --password');
  if (ssid === undefined) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    ssid = (await rl.question('Wi-Fi network (SSID): ')).trim();
    rl.close();
  }
  if (password === undefined) {
    const reader = passwordReader({ stdin: process.stdin, stdout: process.stderr, stderr: process.stderr });
    password = (await reader.next(`Password for ${ssid}: `)) ?? '';
    reader.close();
  }
  return { ssid, password };
}

export async function run(args: string[]): Promise<number> {
  const v = parseCommandArgs('provision', args, OPTIONS);
  if (v.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const app = (v.app ?? 'mothership') as AppName;
  if (!APPS.includes(app))
    throw usageError('provision', `--app must be one of ${APPS.join(', ')}, got '${v.app}'`);
  // Checked now, not after a minute of raw REPL attempts on a blank board.
  if (v.micropython !== undefined && !isReadableFile(v.micropython))
    throw usageError('provision', `--micropython ${v.micropython}: no such readable file`);
  const config = v.config ? await loadMothershipConfig(v.config) : undefined;
  const listener = boardListener(config);
  const mqttPort = intFlag('provision', '--mqtt-port', v['mqtt-port'], 1, 65535) ?? listener?.port ?? 1883;
  const tls = listener?.tls;
  const ca = v.ca
    ? readCa(v.ca)
    : tls
      ? readCa(tls.cafile ?? join(dirname(tls.certfile), 'ca.crt'))
      : undefined;
  const host = v.broker ?? lanAddresses()[0] ?? 'mdns';
  const timeoutS = intFlag('provision', '--timeout', v.timeout, 1, 3600) ?? 60;
  const port = v.port ?? (await choosePort());
  const wifi = await askWifi(v.ssid, v.password);
  const bar = progressBar(process.stderr);
  const err = process.stderr;
  err.write(
    `Provisioning ${app} on ${port}; the board will connect to ${host}:${mqttPort}${ca ? ' over TLS' : ''}\n`,
  );
  const r = await provision({
    port,
    app,
    firmwareDir: FIRMWARE_DIR,
    wifi,
    device: v.name,
    broker: { host, port: mqttPort, ca },
    // this machine reaches its own broker on loopback (a TLS certificate names localhost)
    monitor: { host: ca ? 'localhost' : '127.0.0.1', port: mqttPort, ca },
    passwordFile: listener?.passwordFile ?? config?.passwordFile,
    aclFile: listener?.aclFile ?? config?.aclFile,
    rawPaste: !v['no-raw-paste'],
    micropython: v.micropython,
    flash: flashImageFile,
    onlineTimeoutMs: timeoutS * 1000,
    onStep: (s) => {
      bar.end();
      err.write(`${s}\n`);
      if (/added to/.test(s))
        err.write('  (a running `mothership up` takes it after a reload: kill -HUP its pid)\n');
    },
    onProgress: (done, total, file) => bar.update(done, total, file),
    onLine: (line) => {
      bar.end();
      process.stdout.write(`${line}\n`);
    },
  });
  bar.end();
  err.write(
    `${r.device} is online (${r.sent.length} file(s) sent, ${r.bytesSent} bytes${r.rawPaste ? ', raw-paste mode' : ''}; ${r.unchanged.length} unchanged)\n`,
  );
  return 0;
}
