import { connect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

/**
 * A bare MQTT connection for tests that must send exactly the bytes they choose (malformed packets,
 * protocol violations) and see exactly what the broker answers.
 */
export class RawClient {
  readonly packets: Packet[] = [];
  closed = false;
  private readonly parser;
  private waiters: (() => void)[] = [];

  private constructor(
    readonly socket: Socket,
    readonly protocolVersion: number,
  ) {
    this.parser = mqttPacket.parser({ protocolVersion });
    this.parser.on('packet', (p: Packet) => {
      this.packets.push(p);
      this.wake();
    });
    socket.on('data', (d) => this.parser.parse(d));
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static open(port: number, protocolVersion = 4): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawClient(socket, protocolVersion)));
      socket.once('error', reject);
    });
  }

  /** Opens and completes CONNECT; returns the client and its CONNACK. */
  static async connected(
    port: number,
    connect: Partial<mqttPacket.IConnectPacket> & { protocolVersion?: 3 | 4 | 5 } = {},
  ): Promise<{ client: RawClient; connack: mqttPacket.IConnackPacket }> {
    const version = connect.protocolVersion ?? 4;
    const client = await RawClient.open(port, version);
    client.send({
      cmd: 'connect',
      protocolId: version === 3 ? 'MQIsdp' : 'MQTT',
      protocolVersion: version,
      clean: true,
      clientId: `raw-${Math.random().toString(16).slice(2, 10)}`,
      keepalive: 60,
      ...connect,
    } as Packet);
    const connack = (await client.next('connack')) as mqttPacket.IConnackPacket;
    return { client, connack };
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(packet: Packet | Record<string, unknown>): void {
    this.socket.write(
      mqttPacket.generate(packet as Packet, { protocolVersion: this.protocolVersion } as never),
    );
  }

  sendBytes(bytes: Buffer | number[]): void {
    this.socket.write(Buffer.from(bytes));
  }

  /** Resolves with the next not-yet-taken packet of this type (or any type), or rejects after `ms`. */
  async next(cmd?: Packet['cmd'], ms = 5000): Promise<Packet> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.packets.findIndex((p) => cmd === undefined || p.cmd === cmd);
      if (i >= 0) return this.packets.splice(i, 1)[0]!;
      if (this.closed) throw new Error(`connection closed while waiting for ${cmd ?? 'a packet'}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${cmd ?? 'packet'} within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolves when the broker has closed the connection; rejects after `ms`. */
  async waitClosed(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error(`connection still open after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** True when no packet of this type arrives within `ms`. */
  async nothing(cmd: Packet['cmd'], ms = 300): Promise<boolean> {
    try {
      await this.next(cmd, ms);
      return false;
    } catch {
      return true;
    }
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
