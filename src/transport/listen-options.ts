import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
/** How to listen: mosquitto's listener settings, per listener. */
export interface TlsFiles {
  certfile: string;
  keyfile: string;
  cafile?: string;
  /** Ask clients for a certificate and refuse those without one signed by `cafile`. */
  requireCertificate?: boolean;
  /** Use the client certificate's CN as the MQTT username. */
  useIdentityAsUsername?: boolean;
}

export interface ListenOptions {
  port: number;
  /** Bind address; every interface (IPv4 and IPv6) when omitted. */
  host?: string;
  protocol?: 'mqtt' | 'websockets';
  tls?: TlsFiles;
  /**
   * WebSocket only: called for each upgrade request that carries `X-Forwarded-For` or `Forwarded`,
   * i.e. came through a reverse proxy, so its socket address is the proxy's, not the client's.
   */
  onProxiedRequest?: (request: ProxiedRequest) => void;
  /** WebSocket only: what else the port serves over HTTP (the hub's API and dashboard). */
  http?: HttpService;
}

/** Plain HTTP requests, and WebSocket upgrades for paths that are not MQTT, on a WebSocket listener's port. */
export interface HttpService {
  request(req: IncomingMessage, res: ServerResponse): void;
  /** Takes an upgrade request for a path it owns (true), or leaves it to MQTT over WebSocket (false). */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
}

export interface ProxiedRequest {
  /** The socket's address: the proxy's. */
  remoteAddress: string;
  /** The header as sent, e.g. `X-Forwarded-For: 203.0.113.9`. */
  header: string;
}

export interface Listener {
  readonly name: string;
  readonly protocol: 'mqtt' | 'websockets';
  readonly tls: boolean;
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  readonly host: string | undefined;
  close(): Promise<void>;
}
