/**
 * The board kinds of `mothership sim`: the seed scenarios, with the names and topics the seeds
 * use. `--boards dht:5,led-remote:2` is read here. A pair kind's first pair keeps the seed's names
 * (machine1 + machine2, blue + green) and the next ones get `-2`, `-3`...; a single kind is
 * numbered from 1 (dht1, dht2, mothership1).
 */
import { ErrorCodes, MothershipError } from '../../errors.js';

export const KINDS = ['conversation', 'led-remote', 'mothership', 'dht'] as const;
export type Kind = (typeof KINDS)[number];
/** The folder under firmware/apps/ a kind runs. */
export type App = 'conversation' | 'led_remote' | 'mothership' | 'dht';

export interface BoardSpec {
  kind: Kind;
  /** The device name: MQTT client id and the <device>/... topics. */
  name: string;
  app: App;
  /** config.json's "app" section, as the firmware reads it. */
  appConfig: Record<string, unknown>;
}

/** Most boards one `--boards` may ask for (a guard against a typo such as dht:50000). */
export const MAX_BOARDS = 100_000;

function usage(message: string): MothershipError {
  return new MothershipError(ErrorCodes.USAGE, message);
}

/** `dht:5,led-remote:2` -> [{kind: 'dht', count: 5}, ...]; a kind without a count is one. */
export function parseBoards(text: string): { kind: Kind; count: number }[] {
  const out: { kind: Kind; count: number }[] = [];
  for (const part of text.split(',')) {
    const [kind, count = '1', extra] = part.trim().split(':');
    if (!KINDS.includes(kind as Kind))
      throw usage(`--boards: unknown kind '${kind}' (kinds: ${KINDS.join(', ')})`);
    if (extra !== undefined || !/^[1-9][0-9]*$/.test(count))
      throw usage(`--boards: '${part.trim()}' is not KIND or KIND:COUNT with COUNT 1 or more`);
    out.push({ kind: kind as Kind, count: Number(count) });
  }
  const total = out.reduce((n, k) => n + k.count * (isPair(k.kind) ? 2 : 1), 0);
  if (total > MAX_BOARDS) throw usage(`--boards: ${total} boards is more than ${MAX_BOARDS}`);
  return out;
}

const isPair = (kind: Kind) => kind === 'conversation' || kind === 'led-remote';

/** The boards of one kind, `count` of them (pairs for a pair kind), named as the seeds name them. */
export function boardsOf(kind: Kind, count: number, qos: 0 | 1): BoardSpec[] {
  const specs: BoardSpec[] = [];
  for (let i = 1; i <= count; i++) {
    const s = i === 1 ? '' : `-${i}`;
    switch (kind) {
      case 'conversation':
        specs.push(
          { kind, name: `machine1${s}`, app: 'conversation', appConfig: { role: 'machine1', qos } },
          { kind, name: `machine2${s}`, app: 'conversation', appConfig: { role: 'machine2', qos } },
        );
        break;
      case 'led-remote':
        specs.push(
          { kind, name: `blue${s}`, app: 'led_remote', appConfig: { name: `blue${s}`, peer: `green${s}` } },
          { kind, name: `green${s}`, app: 'led_remote', appConfig: { name: `green${s}`, peer: `blue${s}` } },
        );
        break;
      case 'mothership':
        specs.push({ kind, name: `mothership${i}`, app: 'mothership', appConfig: { qos } });
        break;
      case 'dht':
        // The soil probe's calibration: read_u16() in dry air and in water.
        specs.push({
          kind,
          name: `dht${i}`,
          app: 'dht',
          appConfig: { qos, soil_dry: SOIL_DRY, soil_wet: SOIL_WET },
        });
        break;
    }
  }
  return specs;
}

export const SOIL_DRY = 60000;
export const SOIL_WET = 20000;

/** Every board `--boards` asks for, in the order given. Names stay unique across repeated kinds. */
export function fleetOf(text: string, qos: 0 | 1): BoardSpec[] {
  const seen = new Map<Kind, number>();
  const specs: BoardSpec[] = [];
  for (const { kind, count } of parseBoards(text)) {
    const before = seen.get(kind) ?? 0;
    seen.set(kind, before + count);
    specs.push(...boardsOf(kind, before + count, qos).slice(before * (isPair(kind) ? 2 : 1)));
  }
  return specs;
}
