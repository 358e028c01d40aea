import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { ErrorCodes, MothershipError } from '../../errors.js';
import {
  createCertificateAuthority,
  describeCertificate,
  issueClientCertificate,
  issueServerCertificate,
  type KeyPairPem,
  keyMatchesCertificate,
  machineAddresses,
  machineNames,
} from '../../transport/certificates.js';

const HELP = `Usage: mothership certs [options]

Makes a local certificate authority (ca.crt, ca.key) and a server certificate (server.crt, server.key)
for this machine's names (hostname, hostname.local, localhost) and addresses, then prints how to use them.
Give ca.crt to every client and board; keep ca.key secret.

Options:
      --out DIR       where the files go (default ./mothership-data/certs)
      --client NAME   also issue a client certificate with CN=NAME (client-NAME.crt, client-NAME.key),
                      for require_certificate / use_identity_as_username
      --san NAME|IP   also put this name or address in the server certificate (repeatable)
      --renew         re-issue the server certificate (and the --client one) with the existing CA
      --force         replace the CA too (every board and client then needs the new ca.crt)
  -h, --help          this help
`;

export interface CertsFlags {
  out: string;
  client?: string;
  san: string[];
  renew: boolean;
  force: boolean;
}

function usageError(message: string): MothershipError {
  return new MothershipError(ErrorCodes.USAGE, `${message} (run 'mothership certs --help' for the options)`);
}

const CLIENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

const OPTIONS = {
  out: { type: 'string', short: 'o' },
  client: { type: 'string' },
  san: { type: 'string', multiple: true },
  renew: { type: 'boolean' },
  force: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export function parseCertsFlags(args: string[]): CertsFlags | 'help' {
  // Not strict: the tokens are checked here, in order, so each mistake gets its own one-line message.
  const { values, tokens } = parseArgs({
    args,
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind === 'positional') throw usageError(`unknown option '${token.value}'`);
    if (token.kind !== 'option') continue;
    const option = Object.hasOwn(OPTIONS, token.name)
      ? OPTIONS[token.name as keyof typeof OPTIONS]
      : undefined;
    if (!option || (option.type === 'boolean' && token.inlineValue)) {
      throw usageError(`unknown option '${args[token.index]}'`);
    }
    if (token.name === 'help') return 'help';
    if (option.type === 'string' && !token.value) throw usageError(`${token.rawName} needs a value`);
    if (token.name === 'client' && !CLIENT_NAME.test(token.value!)) {
      throw usageError(
        `--client needs a name of letters, digits, '.', '_', '@' or '-' (at most 64), got '${token.value}'`,
      );
    }
  }
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const client = text(values.client);
  return {
    out: text(values.out) ?? './mothership-data/certs',
    ...(client !== undefined ? { client } : {}),
    san: (values.san ?? []).filter((v): v is string => typeof v === 'string'),
    renew: values.renew === true,
    force: values.force === true,
  };
}

export interface CertsResult {
  dir: string;
  /** Whether a new CA was made (false: the existing one was reused). */
  createdCa: boolean;
  /** Whether server.crt/server.key were (re-)issued. */
  issuedServer: boolean;
  client?: { cert: string; key: string; name: string };
}

function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'no space left on device';
  return code ?? (err as Error).message;
}

function writeOut(path: string, text: string, secret: boolean): void {
  try {
    writeFileSync(path, text, { mode: secret ? 0o600 : 0o644 });
  } catch (err) {
    throw new MothershipError(ErrorCodes.CERT_DIR_UNWRITABLE, `cannot write '${path}': ${errnoText(err)}`);
  }
}

function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'EEXIST' || code === 'ENOTDIR' ? 'not a directory' : errnoText(err);
    throw new MothershipError(
      ErrorCodes.CERT_DIR_UNWRITABLE,
      `cannot write certificates to '${dir}': ${reason}`,
    );
  }
}

function loadCa(dir: string): KeyPairPem {
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certPath, 'utf8');
    key = readFileSync(keyPath, 'utf8');
  } catch (err) {
    throw new MothershipError(
      ErrorCodes.CERT_INVALID,
      `cannot read the CA in '${dir}': ${errnoText(err)} (use --force to make a new CA)`,
    );
  }
  let isCa = false;
  try {
    isCa = describeCertificate(cert).isCa;
  } catch {
    throw new MothershipError(
      ErrorCodes.CERT_INVALID,
      `'${certPath}' is not a PEM certificate (use --force to make a new CA)`,
    );
  }
  if (!isCa)
    throw new MothershipError(
      ErrorCodes.CERT_INVALID,
      `'${certPath}' is not a CA certificate (use --force to make a new CA)`,
    );
  if (!keyMatchesCertificate(key, cert))
    throw new MothershipError(
      ErrorCodes.CERT_INVALID,
      `'${keyPath}' is not the private key of '${certPath}' (use --force to make a new CA)`,
    );
  return { cert, key };
}

/** Does the file work of `mothership certs`; throws a MothershipError on anything the user must fix. */
export function makeCerts(
  flags: CertsFlags,
  machine: { hostname: string; addresses: string[] } = {
    hostname: hostname(),
    addresses: machineAddresses(networkInterfaces()),
  },
): CertsResult {
  const dir = resolve(flags.out);
  const path = (name: string): string => join(dir, name);
  const hasCaCert = existsSync(path('ca.crt'));
  const hasCaKey = existsSync(path('ca.key'));
  const hasServer = existsSync(path('server.crt')) && existsSync(path('server.key'));
  const clientBase = flags.client ? `client-${flags.client}` : undefined;
  const hasClient = clientBase ? existsSync(path(`${clientBase}.crt`)) : false;

  let ca: KeyPairPem;
  let createdCa = false;
  if (flags.force || (!hasCaCert && !hasCaKey)) {
    ensureDir(dir);
    ca = createCertificateAuthority({ commonName: `Mothership CA (${machine.hostname})` });
    createdCa = true;
  } else {
    if (hasServer && !flags.renew && !flags.client)
      throw new MothershipError(
        ErrorCodes.CERT_EXISTS,
        `a CA and server certificate already exist in '${dir}': use --renew to re-issue the server certificate, or --force to replace the CA too (every board then needs the new ca.crt)`,
      );
    if (hasClient && !flags.renew)
      throw new MothershipError(
        ErrorCodes.CERT_EXISTS,
        `client certificate '${path(`${clientBase}.crt`)}' already exists: use --renew to re-issue it`,
      );
    ca = loadCa(dir);
    ensureDir(dir);
  }

  const issueServer = createdCa || !hasServer || flags.renew;
  const sans = flags.san;
  const writes: [string, string, boolean][] = [];
  if (createdCa) writes.push(['ca.crt', ca.cert, false], ['ca.key', ca.key, true]);
  if (issueServer) {
    const server = issueServerCertificate(ca, {
      commonName: machine.hostname,
      dnsNames: [...machineNames(machine.hostname), ...sans.filter((s) => isIP(s) === 0)],
      ipAddresses: [...machine.addresses, ...sans.filter((s) => isIP(s) !== 0)],
    });
    writes.push(['server.crt', server.cert, false], ['server.key', server.key, true]);
  }
  let client: CertsResult['client'];
  if (flags.client && clientBase) {
    const pair = issueClientCertificate(ca, { commonName: flags.client });
    writes.push([`${clientBase}.crt`, pair.cert, false], [`${clientBase}.key`, pair.key, true]);
    client = { name: flags.client, cert: path(`${clientBase}.crt`), key: path(`${clientBase}.key`) };
  }
  // The CA goes last: a run cut short leaves no CA behind without the server certificate it signed.
  writes.sort((a, b) => Number(a[0].startsWith('ca.')) - Number(b[0].startsWith('ca.')));
  for (const [name, text, secret] of writes) writeOut(path(name), text, secret);
  return { dir, createdCa, issuedServer: issueServer, ...(client ? { client } : {}) };
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The address a client on the LAN would use: the server certificate's first non-loopback IPv4
 * address (IPv6 last), else 127.0.0.1 (a machine without a LAN address, or no server certificate).
 */
function serverAddress(serverCrt: string): string {
  let addresses: string[] = [];
  try {
    addresses = describeCertificate(readFileSync(serverCrt, 'utf8')).ipAddresses;
  } catch {
    return '127.0.0.1';
  }
  const lan = addresses.filter((a) => a !== '127.0.0.1' && a !== '::1' && !a.startsWith('fe80:'));
  return lan.find((a) => isIP(a) === 4) ?? lan[0] ?? '127.0.0.1';
}

/** The how-to printed after the files are written. */
export function instructions(result: CertsResult, host: string): string {
  const p = (name: string): string => join(result.dir, name);
  const ca = shellQuote(p('ca.crt'));
  const short = machineNames(host)[1] ?? 'localhost';
  const lines: string[] = [];
  const files: [string, string][] = [
    [
      'ca.crt',
      `${result.createdCa ? 'new local CA' : 'existing CA (kept)'}: give it to every client and board`,
    ],
    ['ca.key', 'keep it secret: it signs the certificates'],
  ];
  if (result.issuedServer) {
    const s = describeCertificate(readFileSync(p('server.crt'), 'utf8'));
    files.push(['server.crt', `for ${[...s.dnsNames, ...s.ipAddresses].join(', ')}`]);
    files.push(['', `valid until ${s.notAfter.toISOString().slice(0, 10)}`]);
    files.push(['server.key', "the server certificate's key"]);
  }
  if (result.client) {
    files.push([basename(result.client.cert), `client certificate, CN=${result.client.name}`]);
    files.push([basename(result.client.key), 'its key']);
  }
  const width = Math.max(...files.map(([f]) => f.length));
  lines.push(`Certificates in ${result.dir}:`);
  for (const [file, what] of files) lines.push(`  ${file.padEnd(width)}  ${what}`);
  lines.push('');
  lines.push('Broker: add these lines to your mosquitto.conf (for `mothership up -c FILE` or mosquitto),');
  lines.push("next to the listeners it has. A config's listeners replace Mothership's defaults, so a new");
  lines.push('config keeps MQTT on 1883 and WebSocket on 8080 only by listing them too:');
  lines.push('  listener 1883');
  lines.push('  listener 8080');
  lines.push('  protocol websockets');
  lines.push('  listener 8883');
  lines.push(`  certfile ${p('server.crt')}`);
  lines.push(`  keyfile ${p('server.key')}`);
  lines.push(`  cafile ${p('ca.crt')}`);
  if (result.client) {
    lines.push('  # only clients with a certificate from this CA; their CN becomes the username:');
    lines.push('  require_certificate true');
    lines.push('  use_identity_as_username true');
  }
  lines.push(
    '(With listeners and no allow_anonymous line, anonymous clients are refused, as in mosquitto 2;',
  );
  lines.push("'allow_anonymous lan' keeps this machine and the local network in.)");
  lines.push('');
  const clientFlags = result.client
    ? ` --cert ${shellQuote(result.client.cert)} --key ${shellQuote(result.client.key)}`
    : '';
  const address = serverAddress(p('server.crt'));
  const clients = (h: string) => [
    `  mothership sub --cafile ${ca}${clientFlags} -h ${h} -p 8883 -t '#' -v`,
    `  mosquitto_sub --cafile ${ca}${clientFlags} -h ${h} -p 8883 -t '#' -v`,
    `  mosquitto_pub --cafile ${ca}${clientFlags} -h ${h} -p 8883 -t test -m hello`,
  ];
  lines.push(`Clients, by name (${short} needs mDNS on the client):`);
  lines.push(...clients(short));
  lines.push(`or by address (where .local names do not resolve, e.g. Windows without Bonjour, Android):`);
  lines.push(...clients(address));
  lines.push('');
  lines.push('A board:');
  lines.push(`  mpremote cp ${ca} :ca.crt`);
  lines.push(`  then in its config.json: "broker": {"host": "${short}", "port": 8883, "ca": "ca.crt"}`);
  lines.push(`  or by address: "broker": {"host": "${address}", "port": 8883, "ca": "ca.crt"}`);
  lines.push("  (the host must be one of the server certificate's names or addresses above)");
  return `${lines.join('\n')}\n`;
}

export async function run(args: string[]): Promise<number> {
  const flags = parseCertsFlags(args);
  if (flags === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const host = hostname();
  const result = makeCerts(flags, { hostname: host, addresses: machineAddresses(networkInterfaces()) });
  process.stdout.write(instructions(result, host));
  return 0;
}
