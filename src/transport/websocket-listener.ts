import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { Broker } from '../broker/broker.js';
import { bind, closeServer, plainAddress } from './bind.js';
import type { Listener, ListenOptions } from './listen-options.js';
import { tlsServerOptions } from './tls-context.js';

/** Subprotocols MQTT clients offer: `mqtt` (3.1.1 and 5.0) and `mqttv3.1`. */
const SUBPROTOCOLS = ['mqtt', 'mqttv3.1'];

/**
 * MQTT over WebSocket (path `/mqtt` by convention; any path not claimed by `options.http` is accepted,
 * as mosquitto does). Other HTTP requests go to `options.http`, so the dashboard can share the port.
 */
export async function listenWebSocket(
  broker: Broker,
  options: ListenOptions,
): Promise<Listener & { server: Server }> {
  const tls = options.tls;
  const http = options.http;
  const handler = http
    ? (req: IncomingMessage, res: ServerResponse) => http.request(req, res)
    : (_req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(426, { 'content-type': 'text/plain' });
        res.end('This port speaks MQTT over WebSocket (path /mqtt).\n');
      };
  const server: Server = tls ? createHttpsServer(tlsServerOptions(tls), handler) : createServer(handler);
  // Bind first: a WebSocketServer attached earlier would re-emit a bind failure as an unhandled error.
  const port = await bind(
    server,
    options.port,
    options.host,
    tls ? 'MQTT over secure WebSocket' : 'MQTT over WebSocket',
  );
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
    maxPayload: 268_435_456,
  });
  let name = '';
  const { onProxiedRequest } = options;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    if (http?.upgrade?.(req, socket, head)) return;
    const forwarded = req.headers['x-forwarded-for'] ?? req.headers.forwarded;
    if (onProxiedRequest && forwarded !== undefined) {
      const header = req.headers['x-forwarded-for'] !== undefined ? 'X-Forwarded-For' : 'Forwarded';
      onProxiedRequest({
        remoteAddress: plainAddress(req.socket.remoteAddress),
        header: `${header}: ${Array.isArray(forwarded) ? forwarded.join(', ') : forwarded}`,
      });
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  wss.on('connection', (ws, req) => {
    const stream = createWebSocketStream(ws);
    stream.on('error', () => {});
    const meta: Parameters<Broker['handleConnection']>[1] = {
      remoteAddress: plainAddress(req.socket.remoteAddress),
      listener: name,
    };
    if (req.socket.remotePort !== undefined) meta.remotePort = req.socket.remotePort;
    if (tls && options.tls?.useIdentityAsUsername) {
      const cn = (req.socket as TLSSocket).getPeerCertificate?.()?.subject?.CN;
      if (cn) meta.certificateIdentity = Array.isArray(cn) ? cn[0] : cn;
    }
    broker.handleConnection(stream, meta);
  });
  name = `${tls ? 'wss' : 'ws'}:${port}`;
  return {
    name,
    protocol: 'websockets',
    tls: !!tls,
    port,
    host: options.host,
    server,
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections?.();
      await closeServer(server);
    },
  };
}
