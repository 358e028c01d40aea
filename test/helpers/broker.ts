import { Broker, type BrokerOptions } from '../../src/index.js';

export interface RunningBroker {
  broker: Broker;
  port: number;
  wsPort: number;
  /** `mqtt://127.0.0.1:<port>` */
  url: string;
  wsUrl: string;
  close(): Promise<void>;
}

/** A real Mothership broker on ephemeral loopback ports (TCP and WebSocket), $SYS off unless asked. */
export async function startBroker(options: Partial<BrokerOptions> = {}): Promise<RunningBroker> {
  const broker = new Broker({ sysInterval: 0, ...options });
  await broker.ready;
  const tcp = await broker.listen({ port: 0, host: '127.0.0.1' });
  const ws = await broker.listen({ port: 0, host: '127.0.0.1', protocol: 'websockets' });
  return {
    broker,
    port: tcp.port,
    wsPort: ws.port,
    url: `mqtt://127.0.0.1:${tcp.port}`,
    wsUrl: `ws://127.0.0.1:${ws.port}/mqtt`,
    close: () => broker.close(),
  };
}
