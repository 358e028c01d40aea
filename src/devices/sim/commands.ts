/**
 * The sim's fault and hardware commands, one per line, typed on stdin or given on a timeline
 * (`--fault 30:wifi-off dht1 10`). A target is a board's name, a kind (every board of it) or
 * `all`. A line that does not parse is answered with what is wrong and changes nothing.
 */
import { KINDS } from './kinds.js';

export const COMMAND_HELP = `Commands (TARGET: a board name, a kind, or all; S: seconds):
  wifi-off TARGET [S]   the access point goes away (for S seconds, else until wifi-on)
  wifi-on TARGET        it comes back
  power-cycle TARGET    power off and on: the board reboots (reset cause power-on)
  power-off TARGET [S]  the power goes (for S seconds, else until power-on): no goodbye on the
                        wire, the broker notices by its keepalive and publishes the will
  power-on TARGET       power back: the board boots
  broker-unreachable TARGET [S]
                        the broker stops answering (for S seconds, else until broker-reachable),
                        Wi-Fi stays up: connections go silent, connects are not answered
  broker-reachable TARGET   the path to the broker is back
  hang TARGET           the firmware stops feeding its watchdog, which reboots the board
  unplug TARGET [S]     the DHT22's cable comes out (for S seconds, else until plug)
  plug TARGET           it goes back in
  press TARGET [S]      hold the BOOT button (GPIO0) for S seconds (default 1)
  water TARGET          water the plant: the soil probe reads wet again
  status                every board: online or not, LED, reboots
  help                  this list
`;

export type Verb =
  | 'wifi-off'
  | 'wifi-on'
  | 'power-cycle'
  | 'power-off'
  | 'power-on'
  | 'broker-unreachable'
  | 'broker-reachable'
  | 'hang'
  | 'unplug'
  | 'plug'
  | 'press'
  | 'water';

const TAKES_SECONDS: Record<Verb, boolean> = {
  'wifi-off': true,
  'wifi-on': false,
  'power-cycle': false,
  'power-off': true,
  'power-on': false,
  'broker-unreachable': true,
  'broker-reachable': false,
  hang: false,
  unplug: true,
  plug: false,
  press: true,
  water: false,
};

export type Command =
  | { verb: Verb; target: string; seconds?: number }
  | { verb: 'status' | 'help' }
  | { error: string };

/** Longest a timed fault may last: a day. */
const MAX_SECONDS = 86_400;

export function parseCommand(line: string): Command | undefined {
  const words = line.trim().split(/\s+/).filter(Boolean);
  if (!words.length) return undefined;
  const [verb, target, seconds, ...rest] = words as [string, ...(string | undefined)[]];
  if (verb === 'status' || verb === 'help') {
    return target === undefined ? { verb } : { error: `${verb} takes nothing after it` };
  }
  if (!(verb in TAKES_SECONDS)) return { error: `unknown command '${verb}' (try help)` };
  const v = verb as Verb;
  if (target === undefined)
    return { error: `${v} needs a target: a board name, a kind (${KINDS.join(', ')}) or all` };
  if (rest.length || (seconds !== undefined && !TAKES_SECONDS[v]))
    return { error: `${v} takes ${TAKES_SECONDS[v] ? 'TARGET [SECONDS]' : 'TARGET'} only` };
  if (seconds === undefined) return { verb: v, target };
  const n = Number(seconds);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(seconds) || n <= 0 || n > MAX_SECONDS)
    return { error: `${v}: '${seconds}' is not a number of seconds (0 < S <= ${MAX_SECONDS})` };
  return { verb: v, target, seconds: n };
}

/** `--fault 30:wifi-off dht1 10` -> at 30 s, that command. */
export function parseTimedCommand(text: string): { atMs: number; line: string; command: Command } {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)s?:(.*)$/.exec(text);
  if (!m)
    return {
      atMs: 0,
      line: text,
      command: { error: `--fault '${text}': write SECONDS:COMMAND, e.g. 30:wifi-off dht1 10` },
    };
  const command = parseCommand(m[2]!) ?? { error: `--fault '${text}': no command after the time` };
  return { atMs: Number(m[1]) * 1000, line: m[2]!.trim(), command };
}
