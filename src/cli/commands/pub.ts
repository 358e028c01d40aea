/**
 * `mothership pub`: mosquitto_pub's flags, output and exit codes, on MQTT.js. Plus --json (one line per
 * message sent) and finding the broker over mDNS when no -h/-L is given.
 */
import { readFile } from 'node:fs/promises';
import type { Packet } from 'mqtt';
import { reasonName } from '../../protocol/reason-names.js';
import { VERSION } from '../../version.js';
import { resolveBroker } from '../client-connection/broker-address.js';
import { startClientRun } from '../client-connection/client-run.js';
import { clientIdFor } from '../client-connection/create-client.js';
import type { SequentialMessageIdProvider } from '../client-connection/message-ids.js';
import type { ClientOptions } from '../client-flags/options.js';
import { parseOrAnswer } from '../client-flags/parse-client-args.js';
import { usage } from '../client-flags/usage.js';
import { connackErrorLine } from '../client-output/connack-error.js';
import { type DebugPacket, debugLines } from '../client-output/debug-lines.js';
import { jsonLine } from '../client-output/message-json.js';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function run(args: string[]): Promise<number> {
  const opts = parseOrAnswer('pub', args, VERSION);
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
    process.stdout.write(usage('pub', VERSION));
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
