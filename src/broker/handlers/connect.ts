import type { IConnackPacket, IConnectPacket } from 'mqtt-packet';
import { connackCodeForV3, ReasonCode } from '../../protocol/reason-codes.js';
import { topicNameProblem } from '../../protocol/topic.js';
import type { AuthResult } from '../auth.js';
import { forwardedProperties } from '../forwarded-properties.js';
import { NEVER_EXPIRES } from '../session.js';
import { INBOUND_TOPIC_ALIAS_MAXIMUM, OutboundTopicAliases } from '../topic-aliases.js';
import type { QoS } from '../types.js';
import type { ConnectionContext } from './context.js';

/** What CONNECT settled before the authenticator answered. */
interface Accepted {
  clientId: string;
  assignedClientId: string | undefined;
  keepalive: number;
  serverKeepAlive: number | undefined;
}

/**
 * CONNECT: checks what the protocol requires of it, asks the authenticator (at once or later), then
 * opens the session and answers CONNACK. Refusals answer CONNACK with the reason and close.
 */
export function handleConnect(c: ConnectionContext, packet: IConnectPacket): void {
  clearTimeout(c.connectTimer);
  c.state = 'authenticating';
  const version = packet.protocolVersion as 3 | 4 | 5;
  c.protocolVersion = version;
  const props = packet.properties ?? {};
  const refuse = (reason: number, why: string): void => refuseConnect(c, packet, reason, why);

  if (props.authenticationMethod) return refuse(0x8c, 'enhanced authentication is not supported');
  // [MQTT-3.1.2-?] (MQTT 5.0 3.1.2.11.3/4): Receive Maximum and Maximum Packet Size of 0 are protocol errors.
  if (props.receiveMaximum === 0 || props.maximumPacketSize === 0)
    return refuse(ReasonCode.ProtocolError, 'Receive Maximum or Maximum Packet Size of 0');
  if (packet.will && packet.will.topic.length === 0) {
    // [MQTT-3.1.4-1]: a will with an empty topic makes the CONNECT malformed: 3.1.1 closes without a
    // CONNACK; v5 says so (0x81) first.
    if (version !== 5) return c.terminate('malformed-packet');
    return refuse(ReasonCode.MalformedPacket, 'the will topic is empty');
  }
  let clientId = packet.clientId;
  let assignedClientId: string | undefined;
  if (clientId.length === 0) {
    // [MQTT-3.1.3-6]/[MQTT-3.1.3-8]: an empty id gets one assigned only with a clean session (3.1.1);
    // v5 always may; 3.1 never allowed it.
    const allowed =
      c.core.options.allowZeroLengthClientId && (version === 5 || (version === 4 && packet.clean));
    if (!allowed) return refuse(ReasonCode.ClientIdentifierNotValid, 'empty client id');
    clientId = c.core.assignClientId();
    assignedClientId = clientId;
  } else if (version === 3 && Buffer.byteLength(clientId) > 23) {
    return refuse(ReasonCode.ClientIdentifierNotValid, 'MQTT 3.1 client ids are at most 23 bytes');
  }

  let serverKeepAlive: number | undefined;
  let keepalive = packet.keepalive ?? 0;
  const maxKeepalive = c.core.options.maxKeepalive;
  if (maxKeepalive > 0 && (keepalive > maxKeepalive || keepalive === 0)) {
    if (version === 5) {
      serverKeepAlive = maxKeepalive;
      keepalive = maxKeepalive;
    } else if (keepalive > maxKeepalive) {
      return refuse(ReasonCode.ClientIdentifierNotValid, `keepalive ${keepalive} above max_keepalive`);
    }
  }

  if (packet.will) {
    const problem = topicNameProblem(packet.will.topic);
    if (problem) return refuse(ReasonCode.TopicNameInvalid, `will topic invalid (${problem})`);
    if (packet.will.retain && !c.core.options.retainAvailable)
      return refuse(ReasonCode.RetainNotSupported, 'retain not available');
  }

  const auth = c.core.options.authenticator.authenticate({
    clientId,
    username: packet.username,
    password: packet.password,
    remoteAddress: c.meta.remoteAddress,
    listener: c.meta.listener,
    certificateIdentity: c.meta.certificateIdentity,
  });
  const accepted: Accepted = { clientId, assignedClientId, keepalive, serverKeepAlive };
  // An authenticator that answers at once (no password file, or a cached answer) costs no promise.
  if (!(auth instanceof Promise)) return completeConnect(c, packet, auth, accepted);
  auth.then(
    (result) => {
      try {
        completeConnect(c, packet, result, accepted);
      } catch (err) {
        c.internalError(err as Error);
      }
    },
    (err: Error) => c.internalError(err),
  );
}

function refuseConnect(c: ConnectionContext, packet: IConnectPacket, reason: number, why: string): void {
  c.core.events.emit('connect-refused', {
    clientId: packet.clientId,
    remoteAddress: c.meta.remoteAddress,
    reason: why,
  });
  const connack: IConnackPacket =
    c.protocolVersion === 5
      ? { cmd: 'connack', sessionPresent: false, reasonCode: reason }
      : { cmd: 'connack', sessionPresent: false, returnCode: connackCodeForV3(reason) };
  c.send(connack, c.protocolVersion);
  c.terminate('not-authorized');
}

/** CONNECT passed its checks and the authenticator answered: open the session and send CONNACK. */
function completeConnect(
  c: ConnectionContext,
  packet: IConnectPacket,
  auth: AuthResult,
  accepted: Accepted,
): void {
  if (c.state === 'closed') return;
  const { clientId, assignedClientId, keepalive, serverKeepAlive } = accepted;
  const version = c.protocolVersion;
  const props = packet.properties ?? {};
  if (!auth.ok) {
    return refuseConnect(
      c,
      packet,
      auth.reason === 'bad-credentials' ? ReasonCode.BadUserNameOrPassword : ReasonCode.NotAuthorized,
      auth.reason,
    );
  }

  c.clientId = clientId;
  // use_identity_as_username: the verified certificate's CN is the username, whatever CONNECT said.
  c.username = auth.username ?? c.meta.certificateIdentity ?? packet.username;
  c.keepaliveMs = keepalive * 1000;
  if (version === 5) {
    c.receiveMaximum = props.receiveMaximum ?? 65535;
    c.maxOutboundPacketSize = props.maximumPacketSize ?? 0;
    const aliasMaximum = props.topicAliasMaximum ?? 0;
    if (aliasMaximum > 0) c.outboundAliases = new OutboundTopicAliases(aliasMaximum);
    c.problemInformation = props.requestProblemInformation !== false;
  }
  const cleanStart = packet.clean !== false;
  let expiry: number;
  if (version === 5) expiry = props.sessionExpiryInterval ?? 0;
  else if (cleanStart) expiry = 0;
  else expiry = c.core.options.persistentClientExpiration ?? NEVER_EXPIRES;
  c.connectSessionExpiry = expiry;

  const will = packet.will
    ? {
        message: c.core.makeMessage(
          packet.will.topic,
          Buffer.from(packet.will.payload ?? ''),
          packet.will.qos as QoS,
          !!packet.will.retain,
          version === 5 ? forwardedProperties(packet.will.properties) : undefined,
        ),
        delaySeconds: version === 5 ? (packet.will.properties?.willDelayInterval ?? 0) : 0,
      }
    : undefined;

  const { session, sessionPresent } = c.core.openSession(c, clientId, cleanStart, expiry, will);
  c.session = session;
  c.state = 'connected';
  c.info = {
    clientId,
    username: c.username,
    remoteAddress: c.meta.remoteAddress,
    listener: c.meta.listener,
    protocolVersion: version,
    keepalive,
    cleanStart,
    connectedAt: Date.now(),
  };

  // MQTT 3.1 has no session-present flag: that byte is reserved, 0.
  const connack: IConnackPacket = {
    cmd: 'connack',
    sessionPresent: version === 3 ? false : sessionPresent,
  };
  if (version === 5) {
    connack.reasonCode = 0;
    // As mosquitto: max_inflight_messages bounds QoS 1/2 messages in progress in both directions.
    const inflight = c.core.options.maxInflightMessages;
    c.receiveMaximumIn = inflight > 0 ? Math.min(inflight, 65535) : 65535;
    const p: NonNullable<IConnackPacket['properties']> = {
      topicAliasMaximum: INBOUND_TOPIC_ALIAS_MAXIMUM,
      receiveMaximum: c.receiveMaximumIn,
      sharedSubscriptionAvailable: true,
      wildcardSubscriptionAvailable: true,
      subscriptionIdentifiersAvailable: true,
      retainAvailable: c.core.options.retainAvailable,
    };
    if (assignedClientId) p.assignedClientIdentifier = assignedClientId;
    if (serverKeepAlive !== undefined) p.serverKeepAlive = serverKeepAlive;
    if (c.core.options.maxPacketSize > 0) p.maximumPacketSize = c.core.options.maxPacketSize;
    connack.properties = p;
  } else {
    connack.returnCode = 0;
  }
  c.send(connack, version);
  c.startKeepalive();
  c.core.connected(c);
  session.attach(c, Date.now());

  const queued = c.pendingPackets;
  c.pendingPackets = [];
  for (const p of queued) c.onPacket(p);
}
