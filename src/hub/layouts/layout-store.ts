/**
 * Board page layouts (the tiles people added), kept on the hub so a phone and a desktop show the same
 * board: one small JSON file in the data folder, replaced atomically (write, then rename) at each save.
 * Without a data folder they live in memory.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CustomTile } from './custom-tile.js';

export const LAYOUTS_FILE = 'dashboard-layouts.json';

export class LayoutStore {
  private readonly layouts = new Map<string, CustomTile[]>();

  /** `file` undefined: memory only. A missing or unreadable file starts empty (and says why). */
  constructor(
    private readonly file: string | undefined,
    onError: (err: Error) => void = () => {},
  ) {
    if (!file) return;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return; // no layout saved yet
    }
    try {
      const doc = JSON.parse(text) as { layouts?: Record<string, CustomTile[]> };
      for (const [key, tiles] of Object.entries(doc.layouts ?? {}))
        if (Array.isArray(tiles)) this.layouts.set(key, tiles);
    } catch (err) {
      onError(new Error(`${file} is not valid JSON (${(err as Error).message}); layouts start empty`));
    }
  }

  get(key: string): CustomTile[] {
    return this.layouts.get(key) ?? [];
  }

  set(key: string, tiles: CustomTile[]): void {
    if (tiles.length === 0) this.layouts.delete(key);
    else this.layouts.set(key, tiles);
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ layouts: Object.fromEntries(this.layouts) }, null, 1)}\n`);
    renameSync(tmp, this.file);
  }
}
