/** What a bridge reports about itself: on $SYS, in the hub API and in `mothership bridge list`. */
import type { QueueDrop } from './bridge-queue.js';

export interface BridgeStatus {
  name: string;
  state: 'connecting' | 'connected' | 'waiting' | 'idle' | 'stopped';
  connected: boolean;
  /** host:port of the remote, while connected. */
  remoteAddress: string | undefined;
  protocolVersion: 3 | 4 | 5 | undefined;
  /** Messages bound out not yet acknowledged by the remote (queued and in flight). */
  queued: number;
  /** Epoch ms when the oldest of them was accepted. */
  oldestQueuedAt: number | undefined;
  /** Topic and payload bytes of the messages waiting (not those in flight). */
  queuedBytes: number;
  /** Messages this bridge dropped unsent: the sum of `drops`. */
  dropped: number;
  drops: Drops;
  /** Echoes of our own messages stopped on their way back in. */
  echoesStopped: number;
  forwardedOut: number;
  forwardedIn: number;
  lastError: string | undefined;
}

/** Why messages were dropped unsent: queue bounds, the remote's size limit, refused or unmapped. */
export type Drops = Record<QueueDrop | 'tooLarge' | 'refused', number>;
