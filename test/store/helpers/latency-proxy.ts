import net from 'node:net';

/**
 * A TCP proxy that delays every chunk by `delayMs` in each direction, like a board's Wi-Fi link. When
 * either side closes, the other is cut at once and whatever was still on its way is lost, as the
 * packets in flight to a host that died are: so a PUBLISH the broker wrote just before a crash may
 * never reach the subscriber, and only what the broker made durable can bring it back.
 */
export interface LatencyProxy {
  port: number;
  close(): Promise<void>;
}

export async function startLatencyProxy(targetPort: number, delayMs: number): Promise<LatencyProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
    }
    const cut = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    const pipe = (from: net.Socket, to: net.Socket) => {
      from.on('data', (chunk) =>
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk);
        }, delayMs),
      );
      from.on('close', cut);
    };
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
