import type { DeliveryTracker } from '../delivery-tracker.js';
import type { Message } from '../types.js';

/** Hands one accepted message to the subscribers this node serves. */
export type RouteMessage = (
  message: Message,
  publisherId: string | undefined,
  tracker?: DeliveryTracker,
) => void;

/**
 * The seam between accepting a message and routing it. In one process the bus routes at once
 * (LocalMessageBus); a cluster implements it to hand messages to the other nodes as well, each of
 * which routes to its own subscribers.
 */
export interface MessageBus {
  /** Called once by the broker: where this node's messages go. */
  attach(route: RouteMessage): void;
  /** A message was accepted here (retained and stored already): route it everywhere. */
  publish(message: Message, publisherId: string | undefined, tracker?: DeliveryTracker): void;
}

/** The default bus: this process only, routed synchronously. */
export class LocalMessageBus implements MessageBus {
  private route: RouteMessage = () => {};

  attach(route: RouteMessage): void {
    this.route = route;
  }

  publish(message: Message, publisherId: string | undefined, tracker?: DeliveryTracker): void {
    this.route(message, publisherId, tracker);
  }
}
