// A TCP proxy between a board and the broker, so a test can make the broker vanish without a
// FIN (blackhole), lose only what the board sends (uplink-lost), refuse connections, or forward
// normally, or cut the link just before the board's first SUBSCRIBE reaches the broker.
import net from 'node:net';

export type ProxyMode = 'forward' | 'blackhole' | 'uplink-lost' | 'refuse' | 'cut-at-subscribe';

export interface TcpProxy {
  port: number;
  mode: ProxyMode;
  set(mode: ProxyMode): void;
  /** Connections accepted so far (each a board's connect attempt). */
  accepted: number;
  /** Connections from the board still open now (forwarded or silent). */
  readonly open: number;
  /** Everything the broker sent towards the board, as latin1 text. */
  readonly fromBroker: string;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream?: net.Socket;
  silent: boolean;
  /** What the board sends is dropped; the broker still reaches the board. */
  deaf?: boolean;
  /** cut-at-subscribe: the board's bytes not yet forwarded, split into whole packets. */
  pending?: Buffer;
}

/** The length of the first whole MQTT packet in `b`, or 0 when it is not all there yet. */
function firstPacketLength(b: Buffer): number {
  let length = 0;
  for (let i = 1, shift = 0; i < b.length && i <= 4; i++, shift += 7) {
    length += (b[i]! & 0x7f) << shift;
    if ((b[i]! & 0x80) === 0) return b.length >= 1 + i + length ? 1 + i + length : 0;
  }
  return 0;
}

export async function startProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let fromBroker = '';
  const proxy: TcpProxy = {
    port: 0,
    mode: 'forward',
    accepted: 0,
    get open() {
      return pairs.size;
    },
    get fromBroker() {
      return fromBroker;
    },
    set(mode) {
      proxy.mode = mode;
      for (const p of pairs) {
        if (mode === 'blackhole') p.silent = true;
        else if (mode === 'uplink-lost') p.deaf = true;
        // A link that went silent stays dead when the path comes back, as after a real outage.
        else if (p.silent || p.deaf) drop(p);
      }
    },
    close: async () => {
      for (const p of pairs) drop(p);
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const drop = (p: Pair) => {
    pairs.delete(p);
    p.client.destroy();
    p.upstream?.destroy();
  };
  const server = net.createServer((client) => {
    proxy.accepted++;
    client.on('error', () => {});
    if (proxy.mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const p: Pair = { client, silent: proxy.mode === 'blackhole', deaf: proxy.mode === 'uplink-lost' };
    pairs.add(p);
    client.on('close', () => {
      pairs.delete(p);
      p.upstream?.destroy();
    });
    if (p.silent) {
      // Accepted by the kernel, then nothing: a host that went away. What the board sends is read
      // and dropped, so that its FIN is seen and `open` tells whether the board closed the socket.
      client.resume();
      return;
    }
    const up = net.connect({ host: '127.0.0.1', port: targetPort });
    p.upstream = up;
    up.on('error', () => {});
    up.on('close', () => {
      if (!p.silent) drop(p);
    });
    up.on('data', (d) => {
      if (p.silent) return;
      fromBroker += d.toString('latin1');
      client.write(d);
    });
    client.on('data', (d) => {
      if (p.silent || p.deaf) return;
      if (proxy.mode !== 'cut-at-subscribe') {
        up.write(d);
        return;
      }
      // Forward whole packets until a SUBSCRIBE, then drop the link with it unsent (once).
      let b = p.pending ? Buffer.concat([p.pending, d]) : d;
      for (let n = firstPacketLength(b); n > 0; n = firstPacketLength(b)) {
        if (b[0]! >> 4 === 8) {
          proxy.mode = 'forward';
          drop(p);
          return;
        }
        up.write(b.subarray(0, n));
        b = b.subarray(n);
      }
      p.pending = b;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  proxy.port = (server.address() as net.AddressInfo).port;
  return proxy;
}
