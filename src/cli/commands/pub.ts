/**
 * `mothership pub`: mosquitto_pub's flags, output and exit codes, on MQTT.js. Plus --json (one line per
 * message sent) and finding the broker over mDNS when no -h/-L is given.
 */
import { readFile } from 'node:fs/promises';
import type { Packet } from 'mqtt';
import { reasonName } from '../../protocol/reason-names.js';
import { VERSION } from '../../version.js';
import {
  type ClientOptions,
  clientIdFor,
  parseOrAnswer,
  resolveBroker,
  type SequentialMessageIdProvider,
  startClientRun,
} from '../client-options.js';
import { connackErrorLine } from '../client-output/connack-error.js';
import { type DebugPacket, debugLines } from '../client-output/debug-lines.js';
import { jsonLine } from '../client-output/message-json.js';

export const PUB_USAGE = `mothership pub is a simple mqtt client that will publish a message on a single topic and exit.
mothership pub version ${VERSION} (mosquitto_pub compatible).

Usage: mothership pub {[-h host] [--unix path] [-p port] [-u username] [-P password] -t topic | -L URL}
                     {-f file | -l | -n | -m message}
                     [-c] [-k keepalive] [-q qos] [-r] [--repeat N] [--repeat-delay time] [-x session-expiry]
                     [-A bind_address] [--nodelay]
                     [-i id] [-I id_prefix]
                     [-d] [--quiet] [--json]
                     [-M max_inflight]
                     [-u username [-P password]]
                     [--will-topic [--will-payload payload] [--will-qos qos] [--will-retain]]
                     [{--cafile file | --capath dir} [--cert file] [--key file]
                       [--ciphers ciphers] [--insecure]
                       [--tls-alpn protocol]
                       [--tls-use-os-certs]
                     [--property command identifier value]
                     [-D command identifier value]
       mothership pub --help

 -A : bind the outgoing socket to this host/ip address. Use to control which interface
      the client communicates over.
 -d : enable debug messages.
 -c : disable clean session/enable persistent client mode
      When this argument is used, the broker will be instructed not to clean existing sessions
      for the same client id when the client connects, and sessions will never expire when the
      client disconnects. MQTT v5 clients can change their session expiry interval with the -x
      argument.
 -D : Define MQTT v5 properties. See the documentation for more details.
 -f : send the contents of a file as the message.
 -h : mqtt host to connect to. Defaults to a broker found over mDNS (_mqtt._tcp), else localhost.
 -i : id to use for this client. Defaults to an id assigned by the broker.
 -I : define the client id as id_prefix appended with the process id. Useful for when the
      broker is using the clientid_prefixes option.
 -k : keep alive in seconds for this client. Defaults to 60.
 -L : specify user, password, hostname, port and topic as a URL in the form:
      mqtt(s)://[username[:password]@]host[:port]/topic
 -l : read messages from stdin, sending a separate message for each line.
 -m : message payload to send.
 -M : the maximum inflight messages for QoS 1/2..
 -n : send a null (zero length) message.
 -p : network port to connect to. Defaults to 1883 for plain MQTT and 8883 for MQTT over TLS.
 -P : provide a password
 -q : quality of service level to use for all messages. Defaults to 0.
 -r : message should be retained.
 -s : read message from stdin, sending the entire input as a message.
 -t : mqtt topic to publish to.
 -u : provide a username
 -V : specify the version of the MQTT protocol to use when connecting.
      Can be mqttv5, mqttv311 or mqttv31. Defaults to mqttv311.
 -x : Set the session-expiry-interval property on the CONNECT packet. Applies to MQTT v5
      clients only. Set to 0-4294967294 to specify the session will expire in that many
      seconds after the client disconnects, or use -1, 4294967295, or ∞ for a session
      that does not expire. Defaults to -1 if -c is also given, or 0 if -c not given.
 --help : display this message.
 --json : print one JSON object per message sent (topic, payload, qos, retain, properties, time).
 --nodelay : disable Nagle's algorithm, to reduce socket sending latency at the possible
             expense of more packets being sent.
 --quiet : don't print error messages.
 --repeat : if publish mode is -f, -m, or -s, then repeat the publish N times.
 --repeat-delay : if using --repeat, wait time seconds between publishes. Defaults to 0.
 --unix : connect to a broker through a unix domain socket instead of a TCP socket,
          e.g. /tmp/mosquitto.sock
 --will-payload : payload for the client Will, which is sent by the broker in case of
                  unexpected disconnection. If not given and will-topic is set, a zero
                  length message will be sent.
 --will-qos : QoS level for the client Will.
 --will-retain : if given, make the client Will retained.
 --will-topic : the topic on which to publish the client Will.
 --cafile : path to a file containing trusted CA certificates to enable encrypted
            communication.
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

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function run(args: string[]): Promise<number> {
  const opts = parseOrAnswer('pub', args, PUB_USAGE, VERSION);
  if (typeof opts === 'number') return opts;
  const errPrint = (s: string) => {
    if (!opts.quiet) process.stderr.write(s);
  };
  if (opts.pubMode === 'stdin-file') {
    try {
      opts.message = await readStdin();
    } catch {
      errPrint('Error loading input from stdin.\n');
      return 1;
    }
  } else if (opts.pubMode === 'file') {
    try {
      opts.message = await readFile(opts.file!);
    } catch {
      errPrint(`Error: Unable to open file "${opts.file}".\nError loading input file "${opts.file}".\n`);
      return 1;
    }
  }
  if (opts.topic === undefined || opts.pubMode === 'none') {
    process.stderr.write('Error: Both topic and message must be supplied.\n');
    process.stdout.write(PUB_USAGE);
    return 1;
  }
  return publish(opts, errPrint);
}

/** Connects, publishes as the mode says (once, --repeat, or a line at a time from stdin), disconnects. */
async function publish(opts: ClientOptions, errPrint: (s: string) => void): Promise<number> {
  const broker = await resolveBroker(opts);
  const clientId = clientIdFor(opts);
  const v5 = opts.protocolVersion === 5;
  let shownId = clientId === '' ? '(null)' : clientId;
  let qos0Mid = 0;
  let connected = false;
  let ids: SequentialMessageIdProvider | undefined;
  const run = startClientRun(opts, broker, clientId, errPrint, {
    connected: () => connected,
    sendLines: (packet) => {
      if (packet.cmd === 'publish' && packet.qos === 0 && ids) qos0Mid = ids.skip();
      return debugLines('send', packet as DebugPacket, shownId, qos0Mid);
    },
  });
  if (typeof run === 'string') {
    errPrint(run);
    return 1;
  }
  const { client, exited, finish, debug } = run;
  ids = client.options.messageIdProvider as SequentialMessageIdProvider;

  let disconnecting = false;
  const disconnect = () => {
    if (disconnecting) return;
    disconnecting = true;
    const props = opts.properties.disconnect;
    client.end(false, v5 && Object.keys(props).length > 0 ? { properties: props } : {}, () => finish(0));
  };

  let sent = 0;
  let done = 0;
  let firstPublish = true;
  const send = (payload: Buffer, onDone: () => void) => {
    sent++;
    // With a topic alias set by -D, mosquitto sends the topic only on the first publish.
    const topic = opts.haveTopicAlias && !firstPublish ? '' : opts.topic!;
    firstPublish = false;
    const props = opts.properties.publish;
    client.publish(
      topic,
      payload,
      {
        qos: opts.qos,
        retain: opts.retain,
        ...(v5 && Object.keys(props).length > 0 ? { properties: props } : {}),
      },
      (err, packet) => {
        done++;
        const code = (err as { code?: number } | undefined)?.code;
        if (typeof code === 'number' && code > 127) {
          errPrint(`Warning: Publish ${packet?.messageId ?? done} failed: ${reasonName(code)}.\n`);
        }
        if (opts.json) {
          process.stdout.write(
            jsonLine({
              topic: opts.topic!,
              payload,
              qos: opts.qos,
              retain: opts.retain,
              mid: packet?.messageId ?? 0,
              ...(v5 && Object.keys(props).length > 0 ? { properties: props } : {}),
            }),
          );
        }
        onDone();
      },
    );
  };

  const startPublishing = () => {
    if (opts.pubMode === 'stdin-line') {
      publishLines(send, () => sent === done, disconnect);
      return;
    }
    const payload = opts.pubMode === 'null' ? Buffer.alloc(0) : (opts.message ?? Buffer.alloc(0));
    const next = () => {
      if (done >= opts.repeatCount) {
        disconnect();
        return;
      }
      setTimeout(() => send(payload, next), opts.repeatDelayMs);
    };
    send(payload, () => (done >= opts.repeatCount ? disconnect() : next()));
  };

  client.on('packetreceive', (packet: Packet) => {
    if (packet.cmd === 'connack') {
      const assigned = packet.properties?.assignedClientIdentifier;
      if (assigned) shownId = assigned;
      debug(debugLines('receive', packet as DebugPacket, shownId));
      const code = (v5 ? packet.reasonCode : packet.returnCode) ?? 0;
      if (code !== 0) {
        errPrint(connackErrorLine(code, opts.protocolVersion));
        errPrint(
          v5
            ? 'Error: A network protocol error occurred when communicating with the broker.\n'
            : 'Error: The connection was refused.\n',
        );
        client.end(true);
        finish(code);
        return;
      }
      connected = true;
      startPublishing();
      return;
    }
    debug(debugLines('receive', packet as DebugPacket, shownId));
  });
  client.on('close', () => {
    if (connected && !disconnecting && !run.finished) {
      errPrint('Error: The connection was lost.\n');
      finish(7);
    }
  });

  client.connect();
  const code = await exited;
  client.end(true);
  return code;
}

/** -l: one message per stdin line (without its newline), the last one even without a newline. */
function publishLines(
  send: (payload: Buffer, onDone: () => void) => void,
  allAcked: () => boolean,
  end: () => void,
) {
  let pending = Buffer.alloc(0);
  let ended = false;
  const maybeEnd = () => {
    if (ended && allAcked()) end();
  };
  process.stdin.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (let nl = pending.indexOf(10); nl >= 0; nl = pending.indexOf(10)) {
      send(pending.subarray(0, nl), maybeEnd);
      pending = pending.subarray(nl + 1);
    }
  });
  process.stdin.on('end', () => {
    if (pending.length > 0) send(pending, maybeEnd);
    ended = true;
    maybeEnd();
  });
}
