/**
 * `<data dir>/bridges.conf`: the bridges added through the hub's API, kept as mosquitto `connection`
 * blocks so they can be read, reviewed and edited like the config file (then `kill -HUP`). Read
 * after the config file with the bridge directives only: a block added over HTTP can never set a
 * listener, a password file or anything else of the broker's.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { DirectiveTable } from '../config/directive-table.js';
import { at, configLines } from '../config/lexer.js';
import { ParseState } from '../config/parse-state.js';
import { unsupportedDirectives } from '../config/unsupported-directives.js';
import { DirectiveValue } from '../config/values.js';
import { ErrorCodes, MothershipError } from '../errors.js';
import type { BridgeConfig } from './bridge-config.js';
import { bridgeDirectives, bridgesOf, checkBridges } from './bridge-directives.js';

export const BRIDGES_FILE = 'bridges.conf';

/** Files the hub reads for a bridge: their paths must not depend on where a block was written. */
const PATH_DIRECTIVES = new Set(['bridge_cafile', 'bridge_capath', 'bridge_certfile', 'bridge_keyfile']);

const HEADER = [
  '# Bridges added through the hub API (mothership bridge add), read after the config file.',
  '# Edit and `kill -HUP` the hub, or use mothership bridge add/remove. mosquitto bridge syntax.',
  '',
];

export interface ParsedBridges {
  bridges: BridgeConfig[];
  /** Directives of mosquitto's not supported yet: ignored, named by file:line. */
  warnings: string[];
}

function invalid(text: string): MothershipError {
  return new MothershipError(ErrorCodes.CONFIG_INVALID_VALUE, text);
}

/**
 * `connection` blocks read with the config file's own directive table, restricted to the bridge's
 * directives; `file` names the text in messages (file:line).
 */
export function parseBridgeBlocks(text: string, file: string): ParsedBridges {
  const table = new DirectiveTable<ParseState>(bridgeDirectives);
  const state = new ParseState(file, () => {});
  const warnings: string[] = [];
  for (const line of configLines(text, file)) {
    const { name, where } = line;
    const directive = table.get(name);
    if (!directive) {
      if (!name.startsWith('bridge_') || !unsupportedDirectives.has(name))
        throw invalid(
          `${at(where)}: '${name}' is not a bridge directive: only connection blocks go here (the broker's own settings belong in its config file)`,
        );
      warnings.push(
        `${at(where)}: '${name}' is a mosquitto directive Mothership does not support yet; ignored`,
      );
      continue;
    }
    if (directive.scope !== 'global' && state.block !== directive.scope)
      throw invalid(`${at(where)}: ${name} belongs in a 'connection' block: start with a 'connection' line`);
    if (PATH_DIRECTIVES.has(name) && !isAbsolute(line.rest))
      throw invalid(`${at(where)}: ${name} needs an absolute path on the hub's machine, got '${line.rest}'`);
    directive.apply(new DirectiveValue(line), state);
    if (directive.opens) state.block = directive.opens;
  }
  const bridges = bridgesOf(state.config);
  checkBridges(bridges);
  return { bridges, warnings };
}

/** The blocks of a bridges file, each from its `connection` line up to the next one. */
function blocksOf(text: string): { name: string; lines: string[] }[] {
  const blocks: { name: string; lines: string[] }[] = [];
  for (const line of text.replace(/\r/g, '').split('\n')) {
    const words = line.trim().split(/[ \t]+/);
    if (words[0] === 'connection') blocks.push({ name: words[1] ?? '', lines: [] });
    blocks.at(-1)?.lines.push(line);
  }
  for (const b of blocks) while (b.lines.at(-1)?.trim() === '') b.lines.pop();
  return blocks;
}

export class BridgesFile {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, BRIDGES_FILE);
  }

  private async text(): Promise<string> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw new MothershipError(
        ErrorCodes.CONFIG_FILE_UNREADABLE,
        `cannot read ${this.path}: ${(err as NodeJS.ErrnoException).code}`,
        { cause: err },
      );
    }
  }

  /** The bridges kept (none when there is no file yet). */
  async read(): Promise<ParsedBridges> {
    return parseBridgeBlocks(await this.text(), this.path);
  }

  /**
   * The file with `block` (one connection block's text) added at the end, or the block named
   * `remove` taken out; checked as it will be read back before it replaces the old one.
   */
  async rewrite(change: { add: string } | { remove: string }): Promise<ParsedBridges> {
    const blocks = blocksOf(await this.text());
    const kept = ('add' in change ? blocks : blocks.filter((b) => b.name !== change.remove)).map((b) =>
      b.lines.join('\n'),
    );
    if ('add' in change) kept.push(change.add.trimEnd());
    const text = `${[...HEADER, kept.join('\n\n')].join('\n')}\n`;
    const parsed = parseBridgeBlocks(text, this.path);
    // Written aside, then renamed over: a crash leaves the old file or the new one, never half.
    const temporary = `${this.path}.${randomUUID()}.tmp`;
    await writeFile(temporary, text, { mode: 0o600 });
    await rename(temporary, this.path);
    return parsed;
  }
}

/** One connection block as the file keeps it: from its `connection` line, with who added it when. */
export function blockToKeep(text: string, note: string): string {
  const lines = text.replace(/\r/g, '').split('\n');
  const first = lines.findIndex((l) => l.trim().split(/[ \t]+/)[0] === 'connection');
  return [lines[first]!, `# ${note}`, ...lines.slice(first + 1)].join('\n').trimEnd();
}
