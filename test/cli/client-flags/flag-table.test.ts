import { describe, expect, it } from 'vitest';
import { FLAGS, type Flag } from '../../../src/cli/client-flags/flag-table.js';
import type { ClientKind } from '../../../src/cli/client-flags/options.js';
import { answerText, parseClientArgs } from '../../../src/cli/client-flags/parse-client-args.js';
import { commandNamed, propertyAllowed } from '../../../src/cli/client-flags/properties.js';
import { helpOrder, synopsis, usage } from '../../../src/cli/client-flags/usage.js';
import { PROPERTIES, PROPERTY_PACKETS } from '../../../src/protocol/properties.js';
import { libmosquittoTables } from '../../helpers/libmosquitto.js';
import { normalise, runTool, type ToolResult } from '../../helpers/mosquitto.js';

// The flag table is the only list of flags: these prove the parser's "unknown option" and "no value"
// errors and the usage text all come from it, and that what it says matches Debian's mosquitto_pub and
// mosquitto_sub (run with the same arguments; none of these runs gets as far as connecting). The tests
// that run a hundred of them get a long timeout: on a loaded machine each run can take a tenth of a second.

const TOOLS: readonly ClientKind[] = ['pub', 'sub'];

/** What `mothership <kind> args` prints and exits with when the arguments do not parse. */
function ours(kind: ClientKind, args: string[]): ToolResult {
  const parsed = parseClientArgs(kind, args);
  if (parsed.kind === 'ok') return { stdout: '', stderr: '(parsed)', code: 0 };
  return { ...answerText(kind, parsed, 'test'), code: 1 };
}

/** mosquitto's tool for each case, at most `width` at a time. */
async function mosquitto(cases: Array<[ClientKind, string[]]>, width = 8): Promise<ToolResult[]> {
  const results: ToolResult[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const [kind, args] = cases[i]!;
      results[i] = normalise(await runTool('mosquitto', kind, args));
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

const spellings = (f: Flag) => f.names as readonly string[];

describe('the flag table', () => {
  it('names each spelling once', () => {
    const all = FLAGS.flatMap(spellings);
    expect(new Set(all).size).toBe(all.length);
  });

  it("makes every flag of one tool an unknown option in the other, in mosquitto's words", async () => {
    const cases: Array<[ClientKind, string[]]> = [];
    for (const flag of FLAGS)
      for (const kind of TOOLS)
        if (!flag.tools.includes(kind)) for (const name of spellings(flag)) cases.push([kind, [name, 'x']]);
    expect(cases.length).toBeGreaterThan(20);
    const theirs = await mosquitto(cases);
    cases.forEach(([kind, args], i) => {
      const mine = ours(kind, args);
      expect(mine.stderr, `${kind} ${args[0]}`).toBe(
        `Error: Unknown option '${args[0]}'.\n\nUse 'mothership ${kind} --help' to see usage.\n`,
      );
      expect(mine, `${kind} ${args[0]}`).toEqual(theirs[i]);
    });
  }, 180_000);

  it("answers a value-taking flag given last with mosquitto's missing-value message, every spelling", async () => {
    const cases: Array<[ClientKind, string[]]> = [];
    for (const flag of FLAGS)
      if (flag.value !== undefined)
        for (const kind of flag.tools)
          for (const name of spellings(flag)) cases.push([kind, ['-q', '1', name]]);
    expect(cases.length).toBeGreaterThan(60);
    const theirs = await mosquitto(cases);
    cases.forEach(([kind, args], i) => {
      const mine = ours(kind, args);
      expect(mine.stderr, `${kind} ${args[2]}`).toMatch(
        /^Error: \S+ argument given but .* specified\.\n\n\n/,
      );
      expect(mine, `${kind} ${args[2]}`).toEqual(theirs[i]);
    });
  }, 180_000);

  it('takes the next argument as the value only for flags marked as taking one', () => {
    // A flag without a value followed by another flag: the second is read as a flag, not swallowed.
    for (const flag of FLAGS.filter((f) => f.value === undefined && !f.names[0].startsWith('-D')))
      for (const kind of flag.tools) {
        const parsed = parseClientArgs(kind, [flag.names[0], '--frobnicate']);
        if (parsed.kind === 'help' || parsed.kind === 'version') continue;
        expect(parsed, `${kind} ${flag.names[0]}`).toEqual({
          kind: 'error',
          stderr: "Error: Unknown option '--frobnicate'.\n",
        });
      }
  });
});

describe('the usage text', () => {
  for (const kind of TOOLS) {
    it(`of ${kind} lists every flag of the table that ${kind} knows, and no other`, () => {
      const text = usage(kind, 'test');
      const listed = [...text.matchAll(/^ (-{1,2}[A-Za-z0-9-]+) : /gm)].map((m) => m[1]);
      expect(listed).toEqual(helpOrder(kind).map((f) => f.names[0]));
      expect(new Set(listed)).toEqual(
        new Set(FLAGS.filter((f) => f.tools.includes(kind)).map((f) => f.names[0])),
      );
    });

    it(`of ${kind} shows in its synopsis only flags ${kind} knows`, () => {
      const known = new Set(FLAGS.filter((f) => f.tools.includes(kind)).flatMap(spellings));
      const shown = synopsis(kind).flatMap((line) =>
        [...line.matchAll(/(?<![\w-])-{1,2}[A-Za-z][\w-]*/g)].map((m) => m[0]),
      );
      expect(shown.length).toBeGreaterThan(20);
      for (const flag of shown) expect(known.has(flag), flag).toBe(true);
    });
  }

  it("keeps mosquitto's order where mosquitto_pub lists -d before -c", () => {
    const order = helpOrder('pub').map((f) => f.names[0]);
    expect(order.slice(0, 4)).toEqual(['-A', '-d', '-c', '-D']);
    expect(
      helpOrder('sub')
        .map((f) => f.names[0])
        .slice(0, 5),
    ).toEqual(['-A', '-c', '-C', '-d', '-D']);
  });

  it("is mosquitto's own --help, line for line, where mothership does what mosquitto does", async () => {
    const [pubHelp, subHelp] = await mosquitto([
      ['pub', ['--help']],
      ['sub', ['--help']],
    ]);
    for (const [kind, theirs] of [
      ['pub', pubHelp!],
      ['sub', subHelp!],
    ] as const) {
      const mine = usage(kind, 'test').split('\n');
      const lines = theirs.stdout.split('\n');
      // The first line, the synopsis's first line and the flags both document the same way.
      expect(mine[0]).toBe(lines[0]);
      for (const flag of [
        '-A',
        '-c',
        '-k',
        '-L',
        '-p',
        '-q',
        '-t',
        '-V',
        '-x',
        '--will-payload',
        '--tls-version',
        '--insecure',
      ]) {
        const entry = (l: string[]) => {
          const at = l.findIndex((x) => x.startsWith(` ${flag} : `));
          const end = l.findIndex((x, i) => i > at && !x.startsWith(' '.repeat(flag.length + 4)));
          return l.slice(at, end);
        };
        expect(entry(mine), `${kind} ${flag}`).toEqual(entry(lines));
      }
    }
  });
});

describe('-D, checked against libmosquitto and mosquitto_pub', () => {
  const commands = [...PROPERTY_PACKETS, 'pingreq', 'Publish'];

  it("knows the commands and allows the properties libmosquitto's own checks do, every pair", () => {
    const lib = libmosquittoTables({ properties: [], commands });
    for (const name of commands) {
      const cmd = commandNamed(name);
      expect(cmd !== undefined, name).toBe(lib.commands[name]![0] === 0);
      if (!cmd) continue;
      for (const p of PROPERTIES)
        expect(propertyAllowed(cmd, p.name), `${name} ${p.name}`).toBe(lib.allowed[`${name} ${p.id}`]);
    }
  });

  it('gives the same verdict and words as mosquitto_pub for each command, and where the two tools part', async () => {
    const value = (name: string) => (name === 'user-property' ? ['k', '1'] : ['1']);
    const cases: Array<[ClientKind, string[]]> = [
      // user-property is allowed on every packet: what is left is whether the tool can send it.
      ...commands.map((cmd): [ClientKind, string[]] => ['pub', ['-D', cmd, 'user-property', 'k', 'v']]),
      ...[
        ['publish', 'subscription-identifier'],
        ['subscribe', 'subscription-identifier'],
        ['subscribe', 'content-type'],
        ['connect', 'session-expiry-interval'],
        ['connack', 'session-expiry-interval'],
        ['will', 'reason-string'],
        ['will', 'will-delay-interval'],
        ['connect', 'will-delay-interval'],
        ['publish', 'topic-alias'],
        ['publish', 'frob'],
        ['publish', 'Content-Type'],
      ].map(([cmd, name]): [ClientKind, string[]] => ['pub', ['-D', cmd!, name!, ...value(name!)]]),
    ];
    const theirs = await mosquitto(cases);
    let accepted = 0;
    cases.forEach(([kind, args], i) => {
      const mine = ours(kind, args);
      if (mine.code === 0) {
        // Parsed: mosquitto_pub then stops at the missing topic, which is pub.ts's check, not the parser's.
        accepted++;
        expect(theirs[i]!.stderr, args.join(' ')).toBe('Error: Both topic and message must be supplied.\n');
      } else {
        expect(mine, args.join(' ')).toEqual(theirs[i]);
      }
    });
    expect(accepted).toBeGreaterThan(5);
  }, 180_000);
});
