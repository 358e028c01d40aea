/**
 * Who gets in and what they may do. The broker asks an Authenticator at CONNECT and an Authorizer
 * for every SUBSCRIBE, PUBLISH and delivery; config-driven implementations (mosquitto password and
 * ACL files, anonymous-by-network policy) live beside this file and plug in through these interfaces.
 */

export interface ConnectAttempt {
  clientId: string;
  username: string | undefined;
  password: Buffer | undefined;
  /** Remote IP address as Node reports it (IPv4-mapped IPv6 addresses included). */
  remoteAddress: string;
  /** Name of the listener the client came in on, e.g. `mqtt:1883`. */
  listener: string;
  /** Subject CN of a verified TLS client certificate, when there is one. */
  certificateIdentity?: string;
}

export type AuthResult =
  | { ok: true; username?: string }
  /** `bad-credentials`: CONNACK 0x86 (v5) / 4 (3.1.1); `not-authorized`: 0x87 / 5. */
  | { ok: false; reason: 'bad-credentials' | 'not-authorized' };

export interface Authenticator {
  authenticate(attempt: ConnectAttempt): AuthResult | Promise<AuthResult>;
}

export interface ClientIdentity {
  clientId: string;
  username: string | undefined;
  /**
   * The listener the client last logged in through (e.g. `mqtt:1883`), kept with its session, so
   * per-listener rules still apply to messages queued while it is offline, also after a restart.
   */
  listener?: string;
}

/** `read` is checked for each message delivered to a client, `subscribe` for each SUBSCRIBE filter. */
export type AccessAction = 'publish' | 'subscribe' | 'read';

export interface Authorizer {
  allows(client: ClientIdentity, action: AccessAction, topic: string): boolean;
}

export const allowEveryone: Authenticator & Authorizer = {
  authenticate: () => ({ ok: true }),
  allows: () => true,
};
