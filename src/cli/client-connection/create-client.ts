/** An MQTT.js client made from mosquitto_pub/sub's options: socket, TLS, will, CONNECT properties, client id. */
import { randomInt } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { type IClientOptions, MqttClient } from 'mqtt';
import type { ClientOptions } from '../client-flags/options.js';
import type { BrokerAddress } from './broker-address.js';
import { SequentialMessageIdProvider } from './message-ids.js';
import { loadTlsFiles } from './tls-files.js';

const ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * The client id mosquitto's tools connect with: -i as given, -I prefix + pid, otherwise empty so the
 * broker assigns one, except MQTT 3.1, which forbids that, where libmosquitto makes up `mosq-` + 18.
 */
export function clientIdFor(opts: ClientOptions): string {
  if (opts.id !== undefined) return opts.id;
  if (opts.idPrefix !== undefined) return `${opts.idPrefix}${process.pid}`;
  if (opts.protocolVersion === 3) {
    let id = 'mosq-';
    for (let i = 0; i < 18; i++) id += ID_CHARS[randomInt(ID_CHARS.length)];
    return id;
  }
  return '';
}

export interface SocketHooks {
  /** A socket failure; MQTT.js would only log it. */
  onError(err: NodeJS.ErrnoException): void;
  /** TCP (or TLS) is up: mosquitto logs "sending CONNECT" only once its blocking connect succeeded. */
  onConnect(): void;
}

/**
 * An MQTT.js client for these options; call connect() once listeners are attached (MQTT.js sends
 * CONNECT synchronously). Reconnection is off: like mosquitto_pub, a lost connection ends the command.
 */
export function createClient(
  opts: ClientOptions,
  broker: BrokerAddress,
  clientId: string,
  hooks: SocketHooks,
): MqttClient | string {
  let tlsOptions: tls.ConnectionOptions | undefined;
  if (broker.tls) {
    const loaded = loadTlsFiles(opts);
    if (typeof loaded === 'string') return loaded;
    tlsOptions = loaded;
  }
  const build = () => {
    let socket: net.Socket;
    if (opts.unixPath !== undefined) {
      socket = net.createConnection(opts.unixPath);
    } else if (tlsOptions) {
      socket = tls.connect({
        ...tlsOptions,
        host: broker.host,
        port: broker.port,
        ...(net.isIP(broker.host) ? {} : { servername: broker.host }),
        ...(opts.bindAddress ? { localAddress: opts.bindAddress } : {}),
      });
    } else {
      socket = net.createConnection({
        host: broker.host,
        port: broker.port,
        noDelay: opts.noDelay,
        ...(opts.bindAddress ? { localAddress: opts.bindAddress } : {}),
      });
    }
    socket.on('error', hooks.onError);
    socket.once(tlsOptions ? 'secureConnect' : 'connect', hooks.onConnect);
    return socket;
  };
  const v5 = opts.protocolVersion === 5;
  const will = opts.willTopic
    ? {
        topic: opts.willTopic,
        payload: Buffer.from(opts.willPayload ?? ''),
        qos: opts.willQos,
        retain: opts.willRetain,
        ...(v5 && Object.keys(opts.properties.will).length > 0 ? { properties: opts.properties.will } : {}),
      }
    : undefined;
  const connectProps = { ...opts.properties.connect };
  // As mosquitto_sub does: a small -C lowers receive-maximum so no extra messages are in flight at exit.
  if (
    opts.kind === 'sub' &&
    opts.msgCount > 0 &&
    opts.msgCount < 20 &&
    connectProps.receiveMaximum === undefined
  ) {
    connectProps.receiveMaximum = opts.msgCount;
  }
  const mqttOptions: IClientOptions = {
    protocolVersion: opts.protocolVersion,
    protocolId: opts.protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
    clientId,
    clean: opts.clean,
    keepalive: opts.keepalive,
    reconnectPeriod: 0,
    manualConnect: true,
    connectTimeout: 30_000,
    resubscribe: false,
    messageIdProvider: new SequentialMessageIdProvider(),
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(will ? { will } : {}),
    ...(v5 && Object.keys(connectProps).length > 0 ? { properties: connectProps } : {}),
  };
  return new MqttClient(build, mqttOptions);
}
