import { isMothershipError } from '../errors.js';
import { VERSION } from '../version.js';

/** Each command lives in its own module under ./commands and exports `run(args): Promise<number>`. */
const commands: Record<
  string,
  { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> }
> = {
  up: {
    summary: 'start the broker (MQTT 1883, WebSocket 8080 /mqtt)',
    load: () => import('./commands/up.js'),
  },
  demo: {
    summary: 'the broker plus six simulated boards running the real firmware',
    load: () => import('./commands/demo.js'),
  },
  pub: { summary: 'publish a message (mosquitto_pub flags)', load: () => import('./commands/pub.js') },
  sub: {
    summary: 'subscribe and print messages (mosquitto_sub flags)',
    load: () => import('./commands/sub.js'),
  },
  passwd: {
    summary: 'manage a password file (mosquitto_passwd flags)',
    load: () => import('./commands/passwd.js'),
  },
  certs: { summary: 'make a local CA and TLS certificates', load: () => import('./commands/certs.js') },
  provision: {
    summary: 'put the firmware on an ESP32 over USB and follow it until online',
    load: () => import('./commands/provision.js'),
  },
  device: {
    summary: "a board's files and REPL over USB: ls, cat, rm, reset, repl",
    load: () => import('./commands/device.js'),
  },
  sim: {
    summary: 'simulated boards running the real firmware (or --light ones)',
    load: () => import('./commands/sim.js'),
  },
  bridge: {
    summary: "a running hub's bridges to other brokers: list, add, remove",
    load: () => import('./commands/bridge.js'),
  },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: mothership <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'mothership <command> --help' for a command's options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  // `mothership sub ... | head` closes our stdout early: exit quietly, as Unix tools do.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
    });
  }
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`mothership ${VERSION}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`mothership: unknown command '${name}'\n\n${usage()}`);
    return 1;
  }
  try {
    const mod = await command.load();
    return await mod.run(rest);
  } catch (err) {
    // Expected failures (port in use, bad config line) are one clear line, never a stack trace.
    if (isMothershipError(err)) {
      process.stderr.write(`mothership ${name}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
