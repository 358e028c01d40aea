/**
 * mosquitto_pub/mosquitto_sub's argv parsed as mosquitto's client_shared.c parses it (same checks, same
 * error text, same order), driven by the flag table, because scripts written for mosquitto's tools
 * must behave the same with ours.
 */
import { FLAGS, type Flag } from './flag-table.js';
import { type ClientKind, type ClientOptions, defaultOptions, UINT32_MAX } from './options.js';
import { usage } from './usage.js';

export type ParseResult =
  | { kind: 'ok'; options: ClientOptions }
  | { kind: 'help' }
  | { kind: 'version' }
  /** `stderr` already ends with mosquitto's blank lines; the caller appends the "Use ... --help" line. */
  | { kind: 'error'; stderr: string };

const BY_NAME = new Map<string, Flag>(FLAGS.flatMap((f) => f.names.map((n) => [n, f] as const)));

/** The flag a command-line word names, if `kind` knows it. */
export function flagFor(kind: ClientKind, arg: string): Flag | undefined {
  const flag = BY_NAME.get(arg);
  return flag?.tools.includes(kind) ? flag : undefined;
}

/** mosquitto's message for a value-taking flag given last, without its value. */
export function missingValueText(flag: Flag): string {
  return `Error: ${flag.reportedAs ?? flag.names[0]} argument given but ${flag.value} specified.\n\n`;
}

/** Parses argv (without the command name) the way mosquitto_pub/mosquitto_sub do. */
export function parseClientArgs(kind: ClientKind, args: readonly string[]): ParseResult {
  const opts = defaultOptions(kind);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const flag = flagFor(kind, arg);
    if (!flag) return { kind: 'error', stderr: `Error: Unknown option '${arg}'.\n` };
    const takesValue = flag.value !== undefined;
    if (takesValue && i === args.length - 1) return { kind: 'error', stderr: missingValueText(flag) };
    const applied = flag.apply(opts, takesValue ? args[i + 1]! : '', args, i);
    if (typeof applied === 'string') return { kind: 'error', stderr: applied };
    if (applied && 'answer' in applied) return { kind: applied.answer };
    if (applied) i = applied.last;
    else if (takesValue) i++;
  }
  return finish(opts);
}

/** The cross-flag checks mosquitto makes once every flag is read. */
function finish(opts: ClientOptions): ParseResult {
  const fail = (stderr: string): ParseResult => ({ kind: 'error', stderr });
  if (opts.willPayload !== undefined && !opts.willTopic) {
    return fail('Error: Will payload given, but no will topic given.\n');
  }
  if (opts.willRetain && !opts.willTopic) return fail('Error: Will retain given, but no will topic given.\n');
  if ((opts.cert && !opts.key) || (opts.key && !opts.cert)) {
    return fail('Error: Both certfile and keyfile must be provided if one of them is set.\n');
  }
  if (opts.keyform && !opts.key) return fail('Error: If keyform is set, keyfile must be also specified.\n');
  if (opts.protocolVersion === 5) {
    if (!opts.clean && opts.sessionExpiry === -1) opts.sessionExpiry = UINT32_MAX;
    if (opts.sessionExpiry > 0) {
      if (opts.sessionExpiry === UINT32_MAX && (opts.idPrefix !== undefined || opts.id === undefined)) {
        return fail(
          'Error: You must provide a client id if you are using an infinite session expiry interval.\n',
        );
      }
      opts.properties.connect.sessionExpiryInterval = opts.sessionExpiry;
    }
  } else if (!opts.clean && (opts.idPrefix !== undefined || opts.id === undefined)) {
    return fail('Error: You must provide a client id if you are using the -c option.\n');
  }
  if (opts.kind === 'sub' && opts.topics.length === 0) {
    return fail('Error: You must specify a topic to subscribe to.\n');
  }
  return { kind: 'ok', options: opts };
}

/** What the tool prints and exits with for an answer or a usage error (all exit 1, as mosquitto's). */
export function answerText(
  kind: ClientKind,
  parsed: Exclude<ParseResult, { kind: 'ok' }>,
  version: string,
): { stdout: string; stderr: string } {
  const tool = `mothership ${kind}`;
  switch (parsed.kind) {
    case 'help':
      return { stdout: usage(kind, version), stderr: '' };
    case 'version':
      return { stdout: `${tool} version ${version} (mosquitto_${kind} compatible).\n`, stderr: '' };
    case 'error':
      return { stdout: '', stderr: `${parsed.stderr}\nUse '${tool} --help' to see usage.\n` };
  }
}

/**
 * The prologue both commands share: parse, and answer --help, --version and usage errors as
 * mosquitto's tools do (exit code 1 for all three). Returns the options, or the exit code.
 */
export function parseOrAnswer(
  kind: ClientKind,
  args: readonly string[],
  version: string,
): ClientOptions | number {
  const parsed = parseClientArgs(kind, args);
  if (parsed.kind === 'ok') return parsed.options;
  const { stdout, stderr } = answerText(kind, parsed, version);
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  return 1;
}
