/** The connect/disconnect log lines, in mosquitto's words, with the same fields as JSON. */
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import type { ClientInfo, DisconnectReason } from '../broker/types.js';
import { describePacket } from './packet-log.js';

/** mosquitto's protocol tags in its connect log line: p1 = 3.1, p2 = 3.1.1, p5 = 5.0. */
function protocolTag(v: 3 | 4 | 5): string {
  return v === 3 ? 'p1' : v === 4 ? 'p2' : 'p5';
}

const disconnectWords: Record<DisconnectReason, string> = {
  normal: 'disconnected',
  'normal-with-will': 'disconnected (with will)',
  'client-closed': 'closed its connection',
  'keepalive-timeout': 'has exceeded timeout, disconnecting',
  'taken-over': 'already connected, closing old connection',
  'protocol-error': 'disconnected: protocol error',
  'malformed-packet': 'disconnected: malformed packet',
  'packet-too-large': 'disconnected: packet too large',
  'not-authorized': 'disconnected: not authorized',
  'slow-consumer': 'disconnected: not reading (send buffer full)',
  'server-shutting-down': 'disconnected: broker shutting down',
  'store-failing': 'disconnected: the store cannot write (disk full or failing), message refused',
  'socket-error': 'disconnected: socket error',
  'administrative-action': 'disconnected by an administrator',
};

/** Logs every connect, disconnect and refused login; with `verbose` every packet too (as mosquitto -v). */
export function logClients(broker: Broker, log: Logger, verbose: boolean): void {
  broker.on('client-connect', (c: ClientInfo) => {
    const user = c.username ? `, u'${c.username}'` : '';
    log.info(
      {
        event: 'connect',
        clientId: c.clientId,
        address: c.remoteAddress,
        protocol: c.protocolVersion,
        listener: c.listener,
      },
      `New client connected from ${c.remoteAddress} as ${c.clientId} (${protocolTag(c.protocolVersion)}, c${c.cleanStart ? 1 : 0}, k${c.keepalive}${user}).`,
    );
  });
  broker.on('client-disconnect', (c, reason) => {
    log.info(
      {
        event: 'disconnect',
        clientId: c.clientId,
        address: c.remoteAddress,
        protocol: c.protocolVersion,
        listener: c.listener,
        reason,
      },
      `Client ${c.clientId} from ${c.remoteAddress} (${protocolTag(c.protocolVersion)}) ${disconnectWords[reason]}.`,
    );
  });
  broker.on('connect-refused', (a) => {
    log.info(
      { event: 'connect-refused', clientId: a.clientId, address: a.remoteAddress, reason: a.reason },
      `Refused client ${a.clientId || '(empty id)'} from ${a.remoteAddress}: ${a.reason}.`,
    );
  });
  if (!verbose) return;
  broker.on('packet', (direction, clientId, packet) => {
    log.debug(
      { event: 'packet', direction, clientId, cmd: packet.cmd },
      describePacket(direction, clientId, packet),
    );
  });
}
