import type { DisconnectReason } from '../types.js';

/**
 * What a packet handler asks of the one dispatcher (connection.ts), as mosquitto's read_handle.c:
 * nothing (the packet was handled), or end the connection with this reason and reason code.
 */
export interface Disconnect {
  reason: DisconnectReason;
  code: number;
  message?: string;
}

export type HandlerResult = Disconnect | undefined;

export function disconnectWith(reason: DisconnectReason, code: number, message?: string): Disconnect {
  return message === undefined ? { reason, code } : { reason, code, message };
}
