/**
 * `mothership provision`: from a board with MicroPython to `<device>/status` = `online` on the broker.
 * Enters the raw REPL, writes the firmware, the app and the board's config.json (only the files whose
 * hash differs), soft-resets the board and follows it until the broker sees it online.
 */
import { readPasswordFile, verifyPassword } from '../../broker/auth/password-file.js';
import { ErrorCodes, isMothershipError, MothershipError } from '../../errors.js';
import { BoardFiles, sha256 } from '../repl/board-files.js';
import { RawRepl } from '../repl/raw-repl.js';
import { SerialLink } from '../serial/serial-link.js';
import { addBoardAcl, addBoardUser, type BoardCredentials } from './board-credentials.js';
import { type BrokerTarget, CA_FILE, defaultDeviceName, deviceConfig } from './device-config.js';
import { type AppName, type BoardFile, firmwareFiles } from './firmware-apps.js';
import { followBoard } from './follow-board.js';
import { type MonitorTarget, type StatusWatch, watchStatus } from './status-watch.js';

/** Writes a MicroPython image through the ESP32's ROM bootloader (src/devices/flash, wired by the CLI). */
export type FlashMicroPython = (
  port: string,
  image: string,
  onProgress: (done: number, total: number) => void,
  /** What the user must do by hand on a port that cannot reset the board (no DTR/RTS). */
  onHandReset: (message: string) => void,
) => Promise<void>;

export interface ProvisionOptions {
  /** The serial port (from findBoardPort, --port, or a pseudo-terminal). */
  port: string;
  app: AppName;
  firmwareDir: string;
  wifi: { ssid: string; password: string };
  /** Where the board finds the broker (its config.json). */
  broker: BrokerTarget;
  /**
   * Where we watch for the board's status: the same broker, as this machine reaches it; without a
   * user of its own, with the board's login when the board got one.
   */
  monitor: MonitorTarget;
  /** Default: the app and the chip id (defaultDeviceName). */
  device?: string;
  /** The broker's password_file: the board gets its own user, with a random password. */
  passwordFile?: string;
  /** The broker's acl_file: the board gets a `user` block limited to its topics. */
  aclFile?: string;
  /** Makes the running broker re-read its password and ACL files (an in-process broker's reload()). */
  reloadBroker?: () => Promise<void>;
  appSettings?: Record<string, unknown>;
  timing?: Record<string, number>;
  keepalive?: number;
  /** A MicroPython image to flash when the board has no raw REPL, and the flasher to do it. */
  micropython?: string;
  flash?: FlashMicroPython;
  /** Use raw-paste mode where the board has it (default true). */
  rawPaste?: boolean;
  /** How long to wait for `online` after the reset (default 60 s). */
  onlineTimeoutMs?: number;
  /** Transfer progress: bytes sent of the total to send, and the file being sent. */
  onProgress?: (done: number, total: number, file: string) => void;
  /** Each line the board prints after its reset. */
  onLine?: (line: string) => void;
  /** What is being done, in a few words ("entering the raw REPL", "user x added to FILE"). */
  onStep?: (message: string) => void;
}

export interface ProvisionResult {
  device: string;
  chipId: string;
  /** Files written, and files already on the board unchanged. */
  sent: string[];
  unchanged: string[];
  bytesSent: number;
  rawPaste: boolean;
  /** The board's output from its reset until online. */
  boot: string[];
}

/** Raw REPL tries after flashing: about 40 s in all (RawRepl waits longer at each try). */
const AFTER_FLASH_ATTEMPTS = 10;

async function enterRepl(
  opts: ProvisionOptions,
  link: SerialLink,
): Promise<{ link: SerialLink; repl: RawRepl }> {
  const repl = new RawRepl(link, { rawPaste: opts.rawPaste });
  try {
    await repl.enter();
    return { link, repl };
  } catch (err) {
    if (!isMothershipError(err, ErrorCodes.RAW_REPL_FAILED) || !opts.micropython) throw err;
    if (!opts.flash)
      throw new MothershipError(
        ErrorCodes.RAW_REPL_FAILED,
        `${err.message}\nNo flasher was given for --micropython.`,
      );
    opts.onStep?.(`no MicroPython answered: flashing ${opts.micropython}`);
    await link.close();
    await opts.flash(
      opts.port,
      opts.micropython,
      (d, t) => opts.onProgress?.(d, t, opts.micropython!),
      (message) => opts.onStep?.(message),
    );
    const again = await SerialLink.open(opts.port);
    // A fresh MicroPython makes its filesystem on first boot, and a board reset by hand waits for the user.
    const r = new RawRepl(again, { rawPaste: opts.rawPaste, attempts: AFTER_FLASH_ATTEMPTS });
    await r.enter();
    return { link: again, repl: r };
  }
}

/** The board's MQTT login: kept if its config.json already has one the password file accepts. */
async function credentials(
  opts: ProvisionOptions,
  old: Buffer | null,
  device: string,
): Promise<(BoardCredentials & { added: boolean }) | undefined> {
  if (!opts.passwordFile) return undefined;
  try {
    const broker = old ? (JSON.parse(old.toString('utf8')).broker ?? {}) : {};
    if (broker.user === device && typeof broker.password === 'string') {
      const stored = (await readPasswordFile(opts.passwordFile)).get(device);
      if (stored && (await verifyPassword(stored, broker.password)))
        return { user: device, password: broker.password, added: false };
    }
  } catch {
    // an unreadable old config.json is replaced
  }
  const c = await addBoardUser(opts.passwordFile, device);
  opts.onStep?.(`user ${device} added to ${opts.passwordFile}`);
  return { ...c, added: true };
}

/**
 * Starts watching for the board. A user just added to the password file is unknown to a running
 * broker until it reloads the file (SIGHUP): say so and wait for it, rather than fail as if the
 * broker were down.
 */
async function watchOnceAccepted(
  monitor: MonitorTarget,
  device: string,
  newUser: boolean,
  opts: ProvisionOptions,
): Promise<StatusWatch> {
  const deadline = Date.now() + (opts.onlineTimeoutMs ?? 60_000);
  let told = false;
  for (;;) {
    try {
      return await watchStatus(monitor, device);
    } catch (err) {
      const refused = newUser && /bad user ?name or password|not authori[sz]ed/i.test((err as Error).message);
      if (!refused) throw err;
      if (Date.now() > deadline)
        throw new MothershipError(
          ErrorCodes.PROVISION_FAILED,
          `the broker does not accept the new user ${device} yet: reload it (kill -HUP the pid of 'mothership up') and run provision again (the board keeps the same login)`,
        );
      if (!told)
        opts.onStep?.(
          `the broker does not know ${device} yet: reload it now (kill -HUP the pid of 'mothership up'); waiting`,
        );
      told = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

export async function provision(opts: ProvisionOptions): Promise<ProvisionResult> {
  opts.onStep?.(`entering the raw REPL on ${opts.port}`);
  const { link, repl } = await enterRepl(opts, await SerialLink.open(opts.port));
  try {
    const files = new BoardFiles(repl);
    const chipId = (
      await repl.run('import machine, binascii\nprint(binascii.hexlify(machine.unique_id()).decode())')
    )
      .toString('latin1')
      .trim();
    const device = opts.device ?? defaultDeviceName(opts.app, chipId);
    const old = opts.passwordFile ? await files.cat('config.json') : null;
    const login = await credentials(opts, old, device);
    const aclAdded = opts.aclFile !== undefined && (await addBoardAcl(opts.aclFile, device, opts.app));
    if (aclAdded) opts.onStep?.(`ACL for ${device} added to ${opts.aclFile}`);
    if ((login?.added || aclAdded) && opts.reloadBroker) await opts.reloadBroker();
    const config = deviceConfig({
      device,
      app: opts.app,
      wifi: opts.wifi,
      broker: opts.broker,
      user: login?.user,
      password: login?.password,
      appSettings: opts.appSettings,
      timing: opts.timing,
      keepalive: opts.keepalive,
    });
    const wanted: BoardFile[] = [
      ...(await firmwareFiles(opts.firmwareDir, opts.app)),
      { path: 'config.json', data: Buffer.from(`${JSON.stringify(config, null, 1)}\n`) },
      ...(opts.broker.ca ? [{ path: CA_FILE, data: Buffer.from(opts.broker.ca) }] : []),
    ];
    // Watching starts before the upload, so a broker we cannot reach fails now, not after the transfer.
    // A broker with a password file may refuse anonymous clients: watch as the board's own user then.
    const monitor = opts.monitor.user || !login ? opts.monitor : { ...opts.monitor, ...login };
    const watch = await watchOnceAccepted(monitor, device, login?.added === true, opts);
    try {
      opts.onStep?.('comparing files by hash');
      const toSend: BoardFile[] = [];
      const unchanged: string[] = [];
      for (const f of wanted) {
        if ((await files.hash(f.path)) === sha256(f.data)) unchanged.push(f.path);
        else toSend.push(f);
      }
      const total = toSend.reduce((n, f) => n + f.data.length, 0);
      let done = 0;
      for (const f of toSend) {
        opts.onProgress?.(done, total, f.path);
        await files.put(f.path, f.data, (n) => {
          done += n;
          opts.onProgress?.(done, total, f.path);
        });
      }
      opts.onStep?.('soft reset');
      await repl.softReset();
      const boot = await followBoard(link, {
        online: watch.online,
        timeoutMs: opts.onlineTimeoutMs ?? 60_000,
        onLine: opts.onLine,
      });
      return {
        device,
        chipId,
        sent: toSend.map((f) => f.path),
        unchanged,
        bytesSent: total,
        rawPaste: repl.rawPaste === true,
        boot,
      };
    } finally {
      await watch.close();
    }
  } finally {
    await link.close();
  }
}
