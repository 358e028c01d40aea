/**
 * Follows a board after its reset: its output line by line, until the broker sees it online, or its
 * own messages (the firmware's `wifi:` and `mqtt:` log lines, a traceback) say why it will not be.
 */
import { ErrorCodes, MothershipError } from '../../errors.js';
import type { SerialLink } from '../serial/serial-link.js';

/** What a board's output says went wrong; undefined while nothing decisive was seen. */
export function diagnose(lines: string[]): string | undefined {
  const joins = new Map<string, number>();
  let refused = 0;
  let unreachable = 0;
  for (const [i, l] of lines.entries()) {
    const join = /wifi: joining (.*)$/.exec(l);
    if (join) joins.set(join[1]!, (joins.get(join[1]!) ?? 0) + 1);
    if (/wifi: up/.test(l)) joins.clear();
    const nack = /CONNACK refused, return code (\d+)/.exec(l);
    if (nack) refused = Number(nack[1]);
    if (/mqtt: connect failed: OSError\((-?\d+|'.*')\)/.test(l)) unreachable++;
    if (/^Traceback/.test(l)) {
      const last = lines.slice(i + 1).find((x) => /^\w+(Error|Exception|Interrupt)\b/.test(x));
      if (last) return `the board's program stopped with an error: ${last}`;
    }
  }
  const failedNet = [...joins].find(([, n]) => n >= 2);
  if (failedNet)
    return `the board could not join the Wi-Fi network ${failedNet[0]} (wrong password, out of range, or 5 GHz only: the ESP32 has 2.4 GHz)`;
  if (refused === 4 || refused === 5)
    return `the broker refused the board's login (CONNACK return code ${refused}: ${refused === 4 ? 'bad user name or password' : 'not authorized'}); was the broker reloaded after its password file changed?`;
  if (refused) return `the broker refused the board (CONNACK return code ${refused})`;
  if (unreachable >= 2)
    return "the board cannot reach the broker (connection refused or no route): check the address in its config.json and this machine's firewall";
  return undefined;
}

export interface FollowOptions {
  online: Promise<void>;
  timeoutMs: number;
  onLine?: (line: string) => void;
}

/** Resolves with the board's output once it is online; throws PROVISION_FAILED with the reason. */
export async function followBoard(link: SerialLink, opts: FollowOptions): Promise<string[]> {
  const lines: string[] = [];
  let partial = '';
  let fail: ((e: Error) => void) | undefined;
  const onData = (d: Buffer) => {
    partial += d.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const p of parts) {
      const line = p.replace(/\r$/, '');
      lines.push(line);
      opts.onLine?.(line);
    }
    const why = diagnose(lines);
    if (why) fail?.(new MothershipError(ErrorCodes.PROVISION_FAILED, why));
  };
  link.on('data', onData);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      opts.online,
      new Promise<never>((_, reject) => {
        fail = reject;
        link.once('close', () =>
          reject(new MothershipError(ErrorCodes.SERIAL_CLOSED, `the serial line ${link.path} went away`)),
        );
        timer = setTimeout(() => {
          const tail = lines.slice(-8).join('\n  ');
          reject(
            new MothershipError(
              ErrorCodes.PROVISION_FAILED,
              `the board did not come online within ${Math.round(opts.timeoutMs / 1000)} s${tail ? `; its last lines:\n  ${tail}` : ' and printed nothing'}`,
            ),
          );
        }, opts.timeoutMs);
        // what the board printed since the reset, before we listened
        onData(link.take());
      }),
    ]);
    return lines;
  } finally {
    clearTimeout(timer);
    link.off('data', onData);
  }
}
