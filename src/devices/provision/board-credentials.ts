/**
 * A provisioned board's own MQTT user: a random password added to the broker's password file as
 * `mothership passwd` does (same hash, same file handling), and, when the broker uses an ACL file,
 * a `user` block limited to the board's topics.
 */
import { randomBytes } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import { hashPassword, readPasswordFile, writePasswordFile } from '../../broker/auth/password-file.js';
import { APP_TOPICS, type AppName } from './firmware-apps.js';

export interface BoardCredentials {
  user: string;
  password: string;
}

/** Adds (or replaces) the board's user in the password file; returns what goes in its config.json. */
export async function addBoardUser(passwordFile: string, device: string): Promise<BoardCredentials> {
  const password = randomBytes(18).toString('base64url');
  const pf = await readPasswordFile(passwordFile);
  pf.set(device, await hashPassword(password));
  await writePasswordFile(passwordFile, pf);
  return { user: device, password };
}

/** The ACL lines for a board: its own topics, and the shared topics its app uses. */
export function aclLines(device: string, app: AppName): string[] {
  const t = APP_TOPICS[app];
  const both = t.read.filter((x) => t.write.includes(x));
  return [
    `user ${device}`,
    `topic readwrite ${device}/#`,
    ...both.map((x) => `topic readwrite ${x}`),
    ...t.read.filter((x) => !both.includes(x)).map((x) => `topic read ${x}`),
    ...t.write.filter((x) => !both.includes(x)).map((x) => `topic write ${x}`),
  ];
}

/** Appends the board's block to the ACL file unless a `user <device>` block is there already. */
export async function addBoardAcl(aclFile: string, device: string, app: AppName): Promise<boolean> {
  const text = await readFile(aclFile, 'utf8');
  if (text.split(/\r?\n/).some((l) => l.trim() === `user ${device}`)) return false;
  const sep = text.length && !text.endsWith('\n') ? '\n' : '';
  await appendFile(aclFile, `${sep}\n# added by mothership provision\n${aclLines(device, app).join('\n')}\n`);
  return true;
}
