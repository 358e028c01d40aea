import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/**
 * Two network namespaces joined by a veth pair, for tests of what crosses a network (mDNS, who may
 * connect from where). Nothing a test does inside them reaches the host's interfaces.
 */
export interface NamespacePair {
  a: string;
  b: string;
  /** Runs a command inside a namespace: argv for spawn (`ip netns exec <ns> ...`). */
  exec(ns: string, argv: string[]): [string, string[]];
  destroy(): void;
}

export function ip(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  return {
    ok: r.status === 0,
    out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`.trim(),
  };
}

export function must(args: string[]): void {
  const r = ip(args);
  if (!r.ok) throw new Error(`ip ${args.join(' ')}: ${r.out}`);
}

/** Why namespaces cannot be made here (needs root or CAP_NET_ADMIN and iproute2), or undefined. */
export function namespaceProblem(): string | undefined {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`;
  const probe = `ms-probe-${randomBytes(3).toString('hex')}`;
  const r = ip(['netns', 'add', probe]);
  if (!r.ok) return `cannot create a network namespace (needs root or CAP_NET_ADMIN and iproute2): ${r.out}`;
  ip(['netns', 'del', probe]);
  return undefined;
}

/**
 * Makes the pair; `addresses` are given to each end (a[i] on A, b[i] on B): a CIDR, or any
 * `ip addr add` arguments before `dev`, e.g. `198.51.100.1 peer 198.51.100.2` (a /32 with a route).
 */
export function createNamespacePair(prefix: string, addresses: { a: string[]; b: string[] }): NamespacePair {
  const id = randomBytes(3).toString('hex');
  const a = `${prefix}-${id}-a`;
  const b = `${prefix}-${id}-b`;
  const vethA = `v${id}a`;
  const vethB = `v${id}b`;
  const destroy = (): void => {
    ip(['netns', 'del', a]);
    ip(['netns', 'del', b]);
  };
  try {
    must(['netns', 'add', a]);
    must(['netns', 'add', b]);
    must(['link', 'add', vethA, 'netns', a, 'type', 'veth', 'peer', 'name', vethB, 'netns', b]);
    for (const [ns, veth, list] of [
      [a, vethA, addresses.a],
      [b, vethB, addresses.b],
    ] as const) {
      for (const cidr of list) must(['-n', ns, 'addr', 'add', ...cidr.split(' '), 'dev', veth]);
      must(['-n', ns, 'link', 'set', veth, 'up']);
      must(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
  } catch (err) {
    destroy();
    throw err;
  }
  return { a, b, exec: (ns, argv) => ['ip', ['netns', 'exec', ns, ...argv]], destroy };
}
