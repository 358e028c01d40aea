/**
 * `mothership sub`: mosquitto_sub's flags, output and exit codes, on MQTT.js. Plus --json (one object per
 * message, for scripts) and finding the broker over mDNS when no -h/-L is given.
 */
import type { Packet } from 'mqtt';
import { topicMatches } from '../../protocol/topic.js';
import { VERSION } from '../../version.js';
import { resolveBroker } from '../client-connection/broker-address.js';
import { startClientRun } from '../client-connection/client-run.js';
import { clientIdFor } from '../client-connection/create-client.js';
import type { ClientOptions } from '../client-flags/options.js';
import { parseOrAnswer } from '../client-flags/parse-client-args.js';
import { connackErrorLine } from '../client-output/connack-error.js';
import { type DebugPacket, debugLines } from '../client-output/debug-lines.js';
import { formatMessage } from '../client-output/format-string.js';
import { jsonLine } from '../client-output/message-json.js';
import type { ReceivedMessage } from '../client-output/received-message.js';

/** mosquitto's MOSQ_ERR_TIMEOUT, the exit code after -W runs out. */
const EXIT_TIMED_OUT = 27;

export async function run(args: string[]): Promise<number> {
  const opts = parseOrAnswer('sub', args, VERSION);
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
    if (opts.filterOuts.some((f) => topicMatches(f, msg.topic))) return;
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
