/**
 * What goes on a board for each app of firmware/ (firmware/README.md): the client library, boot.py
 * and the app's main.py, and the topics the app uses beyond its own `<device>/...`, for its ACL lines.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export const APPS = ['dht', 'led-remote', 'conversation', 'mothership'] as const;
export type AppName = (typeof APPS)[number];

/** ACL rules besides `readwrite <device>/#`: the seeds' shared topics each app reads or writes. */
export const APP_TOPICS: Record<AppName, { read: string[]; write: string[] }> = {
  dht: { read: ['output'], write: ['testincr'] },
  'led-remote': { read: ['+/btn/0'], write: [] },
  conversation: { read: ['notification', 'hello'], write: ['notification', 'hello'] },
  mothership: { read: ['from_mothership'], write: ['to_mothership'] },
};

/** The app's folder under firmware/apps (Python module names have no dashes). */
export const appDir = (app: AppName) => app.replace('-', '_');

export interface BoardFile {
  /** Path on the board, without the leading slash. */
  path: string;
  data: Buffer;
}

/** The firmware files for an app, as they go on the board (config.json not included). */
export async function firmwareFiles(firmwareDir: string, app: AppName): Promise<BoardFile[]> {
  const lib = (await readdir(join(firmwareDir, 'lib'))).filter((f) => f.endsWith('.py')).sort();
  const files: BoardFile[] = [];
  for (const f of lib) files.push({ path: `lib/${f}`, data: await readFile(join(firmwareDir, 'lib', f)) });
  files.push({ path: 'boot.py', data: await readFile(join(firmwareDir, 'boot.py')) });
  files.push({ path: 'main.py', data: await readFile(join(firmwareDir, 'apps', appDir(app), 'main.py')) });
  return files;
}
