import type { Packet } from 'mqtt-packet';

/** One log line per packet in mosquitto's `-v` wording, so people can compare the two logs line by line. */
export function describePacket(direction: 'in' | 'out', clientId: string, packet: Packet): string {
  const name = packet.cmd.toUpperCase();
  const who = clientId || '(unknown)';
  const head = direction === 'in' ? `Received ${name} from ${who}` : `Sending ${name} to ${who}`;
  const p = packet as Packet & Record<string, unknown>;
  switch (packet.cmd) {
    case 'publish': {
      const payload = p.payload as Buffer | string | undefined;
      const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : (payload?.length ?? 0);
      return `${head} (d${p.dup ? 1 : 0}, q${p.qos ?? 0}, r${p.retain ? 1 : 0}, m${p.messageId ?? 0}, '${p.topic}', ... (${bytes} bytes))`;
    }
    case 'connect':
      return `${head} (p${p.protocolVersion === 5 ? 5 : p.protocolVersion === 3 ? 1 : 2}, c${p.clean ? 1 : 0}, k${p.keepalive})`;
    case 'connack':
      return `${head} (${p.sessionPresent ? 1 : 0}, ${p.reasonCode ?? p.returnCode ?? 0})`;
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return direction === 'in'
        ? `${head} (Mid: ${p.messageId}, RC:${p.reasonCode ?? 0})`
        : `${head} (m${p.messageId}, rc${p.reasonCode ?? 0})`;
    case 'subscribe':
      return `${head}${(p.subscriptions as { topic: string; qos: number }[]).map((s) => `\n\t${s.topic} (QoS ${s.qos})`).join('')}`;
    case 'unsubscribe':
      return `${head}${(p.unsubscriptions as string[]).map((t) => `\n\t${t}`).join('')}`;
    case 'disconnect':
      return p.reasonCode ? `${head} (${p.reasonCode})` : head;
    default:
      return head;
  }
}
