import { Broker as BrokerCore } from './broker/broker.js';
import type { Listener, ListenOptions } from './transport/listen-options.js';
import { listenTcp } from './transport/tcp-listener.js';
import { listenWebSocket } from './transport/websocket-listener.js';

/**
 * The embeddable broker with its transports: `new Broker(options)`, then `listen()` on as many
 * TCP, TLS, WebSocket and secure WebSocket ports as needed; `close()` stops them all.
 */
export class Broker extends BrokerCore {
  private readonly listeners: Listener[] = [];

  async listen(options: ListenOptions): Promise<Listener> {
    const listener =
      options.protocol === 'websockets'
        ? await listenWebSocket(this, options)
        : await listenTcp(this, options);
    this.listeners.push(listener);
    return listener;
  }

  override async close(): Promise<void> {
    const listeners = this.listeners.splice(0);
    await super.close();
    await Promise.all(listeners.map((l) => l.close()));
  }
}

export * from './broker/auth.js';
export * from './broker/options.js';
export type { ClientLink } from './broker/ports/client-link.js';
export { LocalMessageBus, type MessageBus, type RouteMessage } from './broker/ports/message-bus.js';
export type * from './broker/ports/persistence.js';
export type * from './broker/types.js';
export * from './errors.js';
export * from './protocol/topic.js';
export type { Listener, ListenOptions, ProxiedRequest, TlsFiles } from './transport/listen-options.js';
