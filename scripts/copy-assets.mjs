// After tsc: the files under src/ that tsc does not emit but the built package runs (the sim's
// worker thread and socket bridge, .mjs, and its MicroPython shims, .py) copied to the same place
// under dist/, so dist/devices/sim finds them next to itself as src/devices/sim does.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ASSET = /\.(mjs|py)$/;

function copy(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copy(path);
    else if (ASSET.test(name)) cpSync(path, join(root, 'dist', relative(join(root, 'src'), path)));
  }
}

copy(join(root, 'src', 'devices'));
