/** One run of `pub` or `sub` around its MQTT.js client: exit code, socket errors, `-d` output. */
import type { MqttClient, Packet } from 'mqtt';
import type { ClientOptions } from '../client-flags/options.js';
import type { BrokerAddress } from './broker-address.js';
import { createClient } from './create-client.js';
import { EXIT_TLS_ERROR, isTlsError, socketErrorText } from './socket-errors.js';

/** One client run of `pub` or `sub`: the MQTT.js client, its exit code, and its `-d` output. */
export interface ClientRun {
  client: MqttClient;
  /** Resolves with the exit code once `finish` is called. */
  exited: Promise<number>;
  readonly finished: boolean;
  finish(code: number): void;
  /** Prints `-d` lines (nothing without -d). */
  debug(lines: string[]): void;
}

/**
 * What both commands share around the client: socket errors before the CONNACK end the run with
 * mosquitto's message and exit code 1, and the "sending CONNECT" line is held until the socket is up
 * (so a refused port prints nothing extra, as libmosquitto). `sendLines` makes the `-d` lines of each
 * packet sent; a command adds its own 'packetsend' listener for anything more.
 */
export function startClientRun(
  opts: ClientOptions,
  broker: BrokerAddress,
  clientId: string,
  errPrint: (s: string) => void,
  hooks: { connected(): boolean; sendLines(packet: Packet): string[] },
): ClientRun | string {
  let finished = false;
  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((r) => {
    resolveExit = r;
  });
  const finish = (code: number): void => {
    if (finished) return;
    finished = true;
    resolveExit(code);
  };
  const debug = (lines: string[]): void => {
    if (opts.debug) for (const line of lines) process.stdout.write(`${line}\n`);
  };
  let socketUp = false;
  let heldConnectLine: string[] = [];
  const client = createClient(opts, broker, clientId, {
    onError: (err) => {
      if (hooks.connected()) return;
      errPrint(socketErrorText(err));
      finish(isTlsError(err) ? EXIT_TLS_ERROR : 1);
    },
    onConnect: () => {
      socketUp = true;
      debug(heldConnectLine);
      heldConnectLine = [];
    },
  });
  if (typeof client === 'string') return client;
  client.on('error', () => {
    // Reported through the socket handler or the CONNACK; MQTT.js's copy would only repeat it.
  });
  client.on('packetsend', (packet: Packet) => {
    const lines = hooks.sendLines(packet);
    if (packet.cmd === 'connect' && !socketUp) heldConnectLine = lines;
    else debug(lines);
  });
  return {
    client,
    exited,
    get finished() {
      return finished;
    },
    finish,
    debug,
  };
}
