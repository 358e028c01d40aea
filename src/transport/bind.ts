import type { Server } from 'node:net';
import { ErrorCodes, MothershipError } from '../errors.js';

/** Binds a server, turning the usual failures into one clear line with a stable code. */
export function bind(server: Server, port: number, host: string | undefined, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      const where = `${host ?? '*'}:${port}`;
      if (err.code === 'EADDRINUSE') {
        reject(
          new MothershipError(
            ErrorCodes.PORT_IN_USE,
            `port ${port} (${what}) is already in use on ${host ?? 'all interfaces'} — another broker (a system mosquitto?) may hold it; stop it or pick another port with --port/--ws-port or a 'listener' line`,
          ),
        );
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EINVAL') {
        reject(
          new MothershipError(
            ErrorCodes.BIND_ADDRESS_INVALID,
            `cannot listen on ${where} (${what}): '${host}' is not an address of this machine`,
          ),
        );
      } else if (err.code === 'EACCES') {
        reject(
          new MothershipError(
            ErrorCodes.PORT_IN_USE,
            `not allowed to listen on port ${port} (${what}); ports below 1024 need root — pick a port above 1024`,
          ),
        );
      } else {
        reject(err);
      }
    };
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Waits until every socket has closed, or `ms` has passed. */
export async function drain(sockets: Set<{ destroyed: boolean }>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && [...sockets].some((s) => !s.destroyed)) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `::ffff:192.168.1.5` (an IPv4 client on a dual-stack socket) is shown and checked as `192.168.1.5`. */
export function plainAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
