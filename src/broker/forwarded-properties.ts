import type { IPublishPacket } from 'mqtt-packet';
import type { MessageProperties } from './types.js';

/** The v5 PUBLISH (and will) properties that travel with a message from publisher to subscribers. */
export function forwardedProperties(
  props: IPublishPacket['properties'] | undefined,
): MessageProperties | undefined {
  if (!props) return undefined;
  const out: MessageProperties = {};
  if (props.payloadFormatIndicator !== undefined) out.payloadFormatIndicator = props.payloadFormatIndicator;
  if (props.messageExpiryInterval !== undefined) out.messageExpiryInterval = props.messageExpiryInterval;
  if (props.contentType !== undefined) out.contentType = props.contentType;
  if (props.responseTopic !== undefined) out.responseTopic = props.responseTopic;
  if (props.correlationData !== undefined) out.correlationData = props.correlationData;
  if (props.userProperties !== undefined) out.userProperties = props.userProperties;
  return Object.keys(out).length > 0 ? out : undefined;
}
