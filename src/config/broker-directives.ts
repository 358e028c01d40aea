/** The broker's limits and behaviour (mosquitto 2's general directives we honour). */
import type { BrokerSettings } from './config-types.js';
import type { Directive } from './directive-table.js';
import type { ParseState } from './parse-state.js';
import type { DirectiveValue } from './values.js';

/** A directive that sets one broker option from the line's value. */
function setting<K extends keyof BrokerSettings>(
  name: string,
  key: K,
  form: string,
  read: (v: DirectiveValue) => NonNullable<BrokerSettings[K]>,
): Directive<ParseState> {
  return {
    name,
    scope: 'global',
    form,
    apply(v, state) {
      state.config.broker[key] = read(v);
    },
  };
}

const packetSizeForm = 'an integer 20..268435455 (bytes), or 0 for no limit';

export const brokerDirectives: Directive<ParseState>[] = [
  setting('allow_zero_length_clientid', 'allowZeroLengthClientId', 'true or false', (v) => v.bool()),
  setting('max_keepalive', 'maxKeepalive', 'an integer 0..65535', (v) => v.int(0, 65535)),
  setting('max_packet_size', 'maxPacketSize', packetSizeForm, (v) => {
    const n = v.int(0, 268_435_455, packetSizeForm);
    if (n > 0 && n < 20) throw v.invalid(packetSizeForm, v.line.args[0]);
    return n;
  }),
  setting('message_size_limit', 'messageSizeLimit', 'an integer 0..268435455 (bytes, 0: no limit)', (v) =>
    v.int(0, 268_435_455, 'an integer 0..268435455 (bytes, 0: no limit)'),
  ),
  setting('max_inflight_messages', 'maxInflightMessages', 'an integer 0..65535', (v) => v.int(0, 65535)),
  setting('max_queued_messages', 'maxQueuedMessages', 'an integer 0..2147483647', (v) =>
    v.int(0, 2_147_483_647),
  ),
  setting('queue_qos0_messages', 'queueQos0Messages', 'true or false', (v) => v.bool()),
  setting('retain_available', 'retainAvailable', 'true or false', (v) => v.bool()),
  setting(
    'persistent_client_expiration',
    'persistentClientExpiration',
    'a duration: a number followed by h, d, w, m or y (e.g. 2d, 1w)',
    (v) => v.duration(),
  ),
  setting('sys_interval', 'sysInterval', 'an integer 0..65535 (seconds, 0: off)', (v) =>
    v.int(0, 65535, 'an integer 0..65535 (seconds, 0: off)'),
  ),
  setting(
    'persistence_inflight_write_delay',
    'inflightWriteDelayMs',
    'an integer 0..60000 (milliseconds)',
    (v) => v.int(0, 60_000, 'an integer 0..60000 (milliseconds)'),
  ),
  setting('persistence_queue_window', 'queueWindow', 'an integer 1..1000000 (messages)', (v) =>
    v.int(1, 1_000_000, 'an integer 1..1000000 (messages)'),
  ),
];
