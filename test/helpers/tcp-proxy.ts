/**
 * A TCP proxy on loopback for link-fault tests, between a bridge and its remote broker. It can
 * refuse new connections (`down`), pause both directions (bytes are held, nothing is closed),
 * blackhole (bytes are swallowed and no FIN or RST is ever sent: a half-open link, as a dead NAT or
 * an unplugged cable leaves it), and reset (RST on every open connection).
 */
import net from 'node:net';

export interface TcpProxy {
  /** The port clients connect to. */
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections open now. */
  readonly open: number;
  /** Stop accepting connections (new ones are reset at once); `up()` accepts again. */
  down(): void;
  up(): void;
  /** Hold the bytes of every open connection until `resume()`. */
  pause(): void;
  resume(): void;
  /** Swallow the bytes of every open connection, closing nothing; new connections too, until `up()`. */
  blackhole(): void;
  /** Reset (RST) every open connection. */
  reset(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  server: net.Socket;
  /** Swallow everything, never close. */
  dead: boolean;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  /** Every socket ever opened and not closed, half-open ones included, for close(). */
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let accepting = true;
  let blackholed = false;
  let paused = false;

  const server = net.createServer((client) => {
    accepted++;
    if (!accepting) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: targetHost, port: targetPort });
    const pair: Pair = { client, server: upstream, dead: blackholed };
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    }
    pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk: Buffer) => {
        if (pair.dead) return; // swallowed: the sender thinks it went out
        if (!to.write(chunk)) from.pause();
      });
      to.on('drain', () => {
        if (!paused) from.resume();
      });
    };
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      pairs.delete(pair);
      if (pair.dead) return; // a half-open link: the other side is never told
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    if (paused) {
      client.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    down() {
      accepting = false;
    },
    up() {
      accepting = true;
      blackholed = false;
    },
    pause() {
      paused = true;
      for (const p of pairs) {
        p.client.pause();
        p.server.pause();
      }
    },
    resume() {
      paused = false;
      for (const p of pairs) {
        p.client.resume();
        p.server.resume();
      }
    },
    blackhole() {
      blackholed = true;
      for (const p of pairs) p.dead = true;
    },
    reset() {
      for (const p of [...pairs]) {
        pairs.delete(p);
        p.client.resetAndDestroy();
        p.server.resetAndDestroy();
      }
    },
    async close() {
      for (const s of [...sockets]) s.destroy();
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
