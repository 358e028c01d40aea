/** A one-line progress bar on a terminal (redrawn in place); plain lines, one per label, elsewhere. */
import type { Writable } from 'node:stream';

const WIDTH = 30;

export function progressBar(out: Writable & { isTTY?: boolean }): {
  update(done: number, total: number, label: string): void;
  end(): void;
} {
  let lastLabel = '';
  let drawn = false;
  return {
    update(done, total, label) {
      if (!out.isTTY) {
        if (label !== lastLabel) out.write(`  ${label}\n`);
        lastLabel = label;
        return;
      }
      const frac = total > 0 ? Math.min(1, done / total) : 1;
      const fill = Math.round(frac * WIDTH);
      const kb = (n: number) => (n / 1024).toFixed(1);
      out.write(
        `\r[${'#'.repeat(fill)}${'.'.repeat(WIDTH - fill)}] ${String(Math.round(frac * 100)).padStart(3)}% ${kb(done)}/${kb(total)} KB ${label.padEnd(28).slice(0, 28)}`,
      );
      drawn = true;
    },
    end() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}
