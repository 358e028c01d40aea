import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, startNodeBroker } from './node-broker.js';
import type { BrokerLauncher } from './types.js';

export function aedesVersion(): string | null {
  try {
    const file = join(repoRoot, 'node_modules', 'aedes', 'package.json');
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return null;
  }
}

export const aedes: BrokerLauncher = {
  name: 'aedes',
  async unavailable(options) {
    if (!aedesVersion()) return 'the aedes package is not installed (npm install)';
    if (options.bridge) return 'aedes has no bridge';
    if (options.persistence) return 'the aedes launcher has no persistence (aedes-persistence-* not set up)';
    return null;
  },
  start: () => startNodeBroker('aedes', 'aedes-server.ts'),
};
