/**
 * `mothership sub`: mosquitto_sub's flags, output and exit codes, on MQTT.js. Plus --json (one object per
 * message, for scripts) and finding the broker over mDNS when no -h/-L is given.
 */
import type { Packet } from 'mqtt';
import { VERSION } from '../../version.js';
import {
  type ClientOptions,
  clientIdFor,
  parseOrAnswer,
  resolveBroker,
  startClientRun,
  topicMatchesFilter,
} from '../client-options.js';
import { connackErrorLine } from '../client-output/connack-error.js';
import { type DebugPacket, debugLines } from '../client-output/debug-lines.js';
import { formatMessage } from '../client-output/format-string.js';
import { jsonLine } from '../client-output/message-json.js';
import type { ReceivedMessage } from '../client-output/received-message.js';

/** mosquitto's MOSQ_ERR_TIMEOUT, the exit code after -W runs out. */
const EXIT_TIMED_OUT = 27;

export const SUB_USAGE = `mothership sub is a simple mqtt client that will subscribe to a set of topics and print all messages it receives.
mothership sub version ${VERSION} (mosquitto_sub compatible).

Usage: mothership sub {[-h host] [--unix path] [-p port] [-u username] [-P password] -t topic | -L URL [-t topic]}
                     [-c] [-k keepalive] [-q qos] [-x session-expiry-interval]
                     [-C msg_count] [-E] [-R] [--retained-only] [--remove-retained] [-T filter_out] [-U topic ...]
                     [-F format | --json]
                     [-W timeout_secs]
                     [-A bind_address] [--nodelay]
                     [-i id] [-I id_prefix]
                     [-d] [-N] [--quiet] [-v]
                     [--will-topic [--will-payload payload] [--will-qos qos] [--will-retain]]
                     [{--cafile file | --capath dir} [--cert file] [--key file]
                       [--ciphers ciphers] [--insecure]
                       [--tls-alpn protocol]
                       [--tls-use-os-certs]
                     [-D command identifier value]
       mothership sub --help

 -A : bind the outgoing socket to this host/ip address. Use to control which interface
      the client communicates over.
 -c : disable clean session/enable persistent client mode
      When this argument is used, the broker will be instructed not to clean existing sessions
      for the same client id when the client connects, and sessions will never expire when the
      client disconnects. MQTT v5 clients can change their session expiry interval with the -x
      argument.
 -C : disconnect and exit after receiving the 'msg_count' messages.
 -d : enable debug messages.
 -D : Define MQTT v5 properties. See the documentation for more details.
 -E : Exit once all subscriptions have been acknowledged by the broker.
 -F : output format.
 -h : mqtt host to connect to. Defaults to a broker found over mDNS (_mqtt._tcp), else localhost.
 -i : id to use for this client. Defaults to an id assigned by the broker.
 -I : define the client id as id_prefix appended with the process id. Useful for when the
      broker is using the clientid_prefixes option.
 -k : keep alive in seconds for this client. Defaults to 60.
 -L : specify user, password, hostname, port and topic as a URL in the form:
      mqtt(s)://[username[:password]@]host[:port]/topic
 -N : do not add an end of line character when printing the payload.
 -p : network port to connect to. Defaults to 1883 for plain MQTT and 8883 for MQTT over TLS.
 -P : provide a password
 -q : quality of service level to use for the subscription. Defaults to 0.
 -R : do not print stale messages (those with retain set).
 -t : mqtt topic to subscribe to. May be repeated multiple times.
 -T : topic string to filter out of results. May be repeated.
 -u : provide a username
 -U : unsubscribe from a topic. May be repeated.
 -v : print published messages verbosely.
 -V : specify the version of the MQTT protocol to use when connecting.
      Can be mqttv5, mqttv311 or mqttv31. Defaults to mqttv311.
 -W : Specifies a timeout in seconds how long to process incoming MQTT messages.
 -x : Set the session-expiry-interval property on the CONNECT packet. Applies to MQTT v5
      clients only. Set to 0-4294967294 to specify the session will expire in that many
      seconds after the client disconnects, or use -1, 4294967295, or ∞ for a session
      that does not expire. Defaults to -1 if -c is also given, or 0 if -c not given.
 --help : display this message.
 --json : print one JSON object per message (topic, payload, qos, retain, properties, time).
 --nodelay : disable Nagle's algorithm, to reduce socket sending latency at the possible
             expense of more packets being sent.
 --pretty : print formatted output rather than minimised output when using the
            JSON output format option.
 --quiet : don't print error messages.
 --random-filter : only print a percentage of received messages. Set to 100 to have all
                   messages printed, 50.0 to have half of the messages received on average
                   printed, and so on.
 --retained-only : only handle messages with the retained flag set, and exit when the
                   first non-retained message is received.
 --remove-retained : send a message to the server to clear any received retained messages
                     Use -T to filter out messages you do not want to be cleared.
 --unix : connect to a broker through a unix domain socket instead of a TCP socket,
          e.g. /tmp/mosquitto.sock
 --will-payload : payload for the client Will, which is sent by the broker in case of
                  unexpected disconnection. If not given and will-topic is set, a zero
                  length message will be sent.
 --will-qos : QoS level for the client Will.
 --will-retain : if given, make the client Will retained.
 --will-topic : the topic on which to publish the client Will.
 --cafile : path to a file containing trusted CA certificates to enable encrypted
            certificate based communication.
 --capath : path to a directory containing trusted CA certificates to enable encrypted
            communication.
 --cert : client certificate for authentication, if required by server.
 --key : client private key for authentication, if required by server.
 --ciphers : openssl compatible list of TLS ciphers to support.
 --tls-version : TLS protocol version, can be one of tlsv1.3 tlsv1.2 or tlsv1.1.
                 Defaults to tlsv1.2 if available.
 --insecure : do not check that the server certificate hostname matches the remote
              hostname. Using this option means that you cannot be sure that the
              remote host is the server you wish to connect to and so is insecure.
              Do not use this option in a production environment.
 --tls-use-os-certs : Load and trust OS provided CA certificates.

See docs/cli.md for more information.

`;

export async function run(args: string[]): Promise<number> {
  const opts = parseOrAnswer('sub', args, SUB_USAGE, VERSION);
  if (typeof opts === 'number') return opts;
  if (opts.noRetain && opts.retainedOnly) {
    process.stderr.write("\nError: Combining '-R' and '--retained-only' makes no sense.\n");
    return 1;
  }
  return subscribe(opts);
}

async function subscribe(opts: ClientOptions): Promise<number> {
  const errPrint = (s: string) => {
    if (!opts.quiet) process.stderr.write(s);
  };
  const broker = await resolveBroker(opts);
  const clientId = clientIdFor(opts);
  const v5 = opts.protocolVersion === 5;
  let shownId = clientId === '' ? '(null)' : clientId;
  let connackReceived = false;
  let processMessages = true;
  let msgCount = 0;
  let lastMid = 0;
  const run = startClientRun(opts, broker, clientId, errPrint, {
    connected: () => connackReceived,
    sendLines: (packet) => debugLines('send', packet as DebugPacket, shownId),
  });
  if (typeof run === 'string') {
    errPrint(run);
    return 1;
  }
  const { client, exited, finish, debug } = run;

  let exitCode = 0;
  let disconnecting = false;
  let serverDisconnected = false;
  /** reasonCode 4 (with will) is what mosquitto_sub sends when -W or a signal ends it. */
  const disconnect = (code = 0, reasonCode?: number) => {
    exitCode = code;
    if (disconnecting) return;
    disconnecting = true;
    const props = opts.properties.disconnect;
    const packet = {
      ...(v5 && reasonCode !== undefined ? { reasonCode } : {}),
      ...(v5 && Object.keys(props).length > 0 ? { properties: props } : {}),
    };
    // mosquitto disconnects at once; MQTT.js would first wait for e.g. a pending UNSUBACK.
    for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
    client.end(false, packet, () => finish(exitCode));
  };

  // QoS 1/2 messages are printed after their PUBACK/PUBCOMP goes out, in libmosquitto's order.
  const heldMessages = new Map<number, () => void>();
  client.on('packetsend', (packet: Packet) => {
    if (packet.cmd === 'publish' && opts.removeRetained) lastMid = packet.messageId ?? lastMid;
    if ((packet.cmd === 'puback' || packet.cmd === 'pubcomp') && packet.messageId !== undefined) {
      const print = heldMessages.get(packet.messageId);
      heldMessages.delete(packet.messageId);
      print?.();
    }
  });

  const onMessage = (msg: ReceivedMessage) => {
    if (!processMessages) return;
    if (opts.retainedOnly && !msg.retain) {
      processMessages = false;
      if (lastMid === 0) disconnect();
      return;
    }
    if (msg.retain && opts.noRetain) return;
    if (opts.filterOuts.some((f) => topicMatchesFilter(f, msg.topic))) return;
    if (opts.removeRetained && msg.retain) {
      client.publish(msg.topic, Buffer.alloc(0), { qos: 1, retain: true }, () => {
        // Ours, not mosquitto's: once the last clearing publish is acknowledged, a finished run may end.
        if (!processMessages) disconnect();
      });
    }
    print(msg);
    if (opts.msgCount > 0) {
      msgCount++;
      if (msgCount === opts.msgCount) {
        processMessages = false;
        if (lastMid === 0) disconnect();
      }
    }
  };

  const print = (msg: ReceivedMessage) => {
    if (opts.randomFilter < 10000 && Math.floor(Math.random() * 10000) >= opts.randomFilter) return;
    if (opts.json) {
      process.stdout.write(jsonLine(msg));
      return;
    }
    const out = formatMessage(msg, opts);
    if (out.stdout.length > 0) process.stdout.write(out.stdout);
    if (out.stderr) errPrint(out.stderr);
  };

  client.on('message', (topic: string, payload: Buffer, packet) => {
    const msg: ReceivedMessage = {
      topic,
      payload,
      qos: packet.qos,
      retain: packet.retain,
      mid: packet.messageId ?? 0,
      ...(packet.properties ? { properties: packet.properties as Record<string, unknown> } : {}),
    };
    if (packet.qos > 0 && packet.messageId !== undefined)
      heldMessages.set(packet.messageId, () => onMessage(msg));
    else onMessage(msg);
  });

  client.on('packetreceive', (packet: Packet) => {
    if (packet.cmd === 'connack') {
      connackReceived = true;
      const assigned = packet.properties?.assignedClientIdentifier;
      if (assigned) shownId = assigned;
      debug(debugLines('receive', packet as DebugPacket, shownId));
      const code = (v5 ? packet.reasonCode : packet.returnCode) ?? 0;
      if (code !== 0) {
        errPrint(connackErrorLine(code, opts.protocolVersion));
        // The broker closes right after a refusal; mosquitto_sub still logs its DISCONNECT attempt.
        debug([`Client ${shownId} sending DISCONNECT`]);
        client.end(true);
        finish(code);
        return;
      }
      const subProps = opts.properties.subscribe;
      client.subscribe(opts.topics, {
        qos: opts.qos,
        ...(v5
          ? {
              nl: false,
              rap: opts.retainAsPublished,
              rh: opts.noRetain ? 2 : 0,
              ...(Object.keys(subProps).length > 0 ? { properties: subProps } : {}),
            }
          : {}),
      });
      const unsubProps = opts.properties.unsubscribe;
      for (const topic of opts.unsubTopics) {
        client.unsubscribe(topic, v5 && Object.keys(unsubProps).length > 0 ? { properties: unsubProps } : {});
      }
      return;
    }
    // Once DISCONNECT is out mosquitto reads no more packets; MQTT.js still parses what is buffered.
    if (disconnecting) return;
    debug(debugLines('receive', packet as DebugPacket, shownId));
    // The server ended the session in words (v5 DISCONNECT, e.g. 0x8B shutting down): not a lost link.
    if (packet.cmd === 'disconnect') serverDisconnected = true;
    if (packet.cmd === 'suback') {
      const granted = ((packet.granted ?? []) as Array<number | { qos: number }>).map((g) =>
        typeof g === 'number' ? g : g.qos,
      );
      if (opts.debug && !opts.quiet) {
        process.stdout.write(`Subscribed (mid: ${packet.messageId}): ${granted.join(', ')}\n`);
      }
      if (!granted.some((g) => g < 128)) {
        disconnect();
        errPrint('All subscription requests were denied.\n');
      }
      // -E: mosquitto_sub disconnects at the SUBACK and reads nothing after it (retained messages included).
      if (opts.exitAfterSub) {
        processMessages = false;
        disconnect();
      }
    }
  });
  client.on('close', () => {
    if (run.finished || disconnecting || !connackReceived) return;
    // As mosquitto_sub: a DISCONNECT from the server ends the run quietly with 0.
    if (serverDisconnected) {
      finish(0);
      return;
    }
    errPrint('Error: The connection was lost.\n');
    finish(7);
  });

  let timedOut = false;
  const stop = (signal: 'timeout' | 'signal') => {
    if (!connackReceived) {
      // mosquitto_sub calls exit(-1) when nothing is connected yet.
      finish(255);
      return;
    }
    processMessages = false;
    if (signal === 'timeout') timedOut = true;
    disconnect(0, 4);
  };
  const timer = opts.timeoutSec > 0 ? setTimeout(() => stop('timeout'), opts.timeoutSec * 1000) : undefined;
  const onSignal = () => stop('signal');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  client.connect();
  let code = await exited;
  if (timer) clearTimeout(timer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  client.end(true);
  if (timedOut) {
    errPrint('Timed out\n');
    code = EXIT_TIMED_OUT;
  }
  return code;
}
