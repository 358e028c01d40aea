import { createServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Broker } from '../broker/broker.js';
import { bind, closeServer, drain, plainAddress } from './bind.js';
import type { Listener, ListenOptions } from './listen-options.js';
import { tlsServerOptions } from './tls-context.js';

/** MQTT over TCP, or over TLS when `tls` is given: each accepted socket goes to the broker as is. */
export async function listenTcp(broker: Broker, options: ListenOptions): Promise<Listener> {
  const tls = options.tls;
  const server = tls ? createTlsServer(tlsServerOptions(tls)) : createServer();
  const sockets = new Set<Socket>();
  let name = '';
  const onSocket = (socket: Socket): void => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const meta: Parameters<Broker['handleConnection']>[1] = {
      remoteAddress: plainAddress(socket.remoteAddress),
      listener: name,
    };
    if (socket.remotePort !== undefined) meta.remotePort = socket.remotePort;
    if (tls) {
      const cn = (socket as TLSSocket).getPeerCertificate?.()?.subject?.CN;
      if (cn && tls.useIdentityAsUsername) meta.certificateIdentity = Array.isArray(cn) ? cn[0] : cn;
    }
    broker.handleConnection(socket, meta);
  };
  server.on(tls ? 'secureConnection' : 'connection', onSocket);
  // A failed TLS handshake is the client's problem; it must not reach the process.
  server.on('tlsClientError', () => {});
  const port = await bind(server, options.port, options.host, tls ? 'MQTT over TLS' : 'MQTT');
  name = `${tls ? 'mqtts' : 'mqtt'}:${port}`;
  return {
    name,
    protocol: 'mqtt',
    tls: !!tls,
    port,
    host: options.host,
    async close() {
      // Stop accepting, give connections a moment to flush their DISCONNECT, then cut the rest.
      const closing = closeServer(server);
      await drain(sockets, 500);
      for (const s of sockets) s.destroy();
      await closing;
    },
  };
}
