import { ReasonCode } from '../protocol/reason-codes.js';
import { type Disconnect, disconnectWith } from './handlers/result.js';

/** Topic aliases a client may use towards us (mosquitto's max_topic_alias default). */
export const INBOUND_TOPIC_ALIAS_MAXIMUM = 10;

/**
 * The aliases a client set towards us [MQTT-3.3.2-12]. Made on first use by the connection: most
 * clients never use aliases, and every idle connection counts.
 */
export class InboundTopicAliases {
  private readonly byAlias = new Map<number, string>();

  /** The topic a PUBLISH with this alias names (and records a new alias), or why it is refused. */
  resolve(alias: number, topic: string): string | Disconnect {
    if (alias === 0 || alias > INBOUND_TOPIC_ALIAS_MAXIMUM)
      return disconnectWith('protocol-error', ReasonCode.TopicAliasInvalid);
    if (topic.length > 0) {
      this.byAlias.set(alias, topic);
      return topic;
    }
    const known = this.byAlias.get(alias);
    return (
      known ?? disconnectWith('protocol-error', ReasonCode.ProtocolError, `unknown topic alias ${alias}`)
    );
  }
}

/**
 * The aliases we use towards a client, up to its Topic Alias Maximum. An alias is registered only
 * once the PUBLISH that introduces it is sent: a PUBLISH dropped for the client's Maximum Packet Size
 * must not leave an alias the client never saw.
 */
export class OutboundTopicAliases {
  private readonly byTopic = new Map<string, number>();

  constructor(private readonly maximum: number) {}

  /** The alias to use: a known one (send an empty topic), a new one to register if sent, or none. */
  lookup(topic: string): { alias: number; known: boolean } | undefined {
    const known = this.byTopic.get(topic);
    if (known !== undefined) return { alias: known, known: true };
    if (this.byTopic.size < this.maximum) return { alias: this.byTopic.size + 1, known: false };
    return undefined;
  }

  register(topic: string, alias: number): void {
    this.byTopic.set(topic, alias);
  }
}
