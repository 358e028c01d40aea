/** What both tools print when the broker refuses the CONNECT, in mosquitto's words. */
import { reasonName } from '../../protocol/reason-names.js';

/** mosquitto_connack_string: MQTT 3.1/3.1.1 CONNACK return codes. */
const CONNACK_V3 = [
  'Connection Accepted.',
  'Connection Refused: unacceptable protocol version.',
  'Connection Refused: identifier rejected.',
  'Connection Refused: broker unavailable.',
  'Connection Refused: bad user name or password.',
  'Connection Refused: not authorised.',
];

/** The "Connection error: …" line both tools print when the broker refuses the CONNECT. */
export function connackErrorLine(code: number, protocolVersion: number): string {
  if (protocolVersion === 5) {
    if (code === 132) {
      return `Connection error: ${reasonName(code)}. Try connecting to an MQTT v5 broker, or use MQTT v3.x mode.\n`;
    }
    return `Connection error: ${reasonName(code)}\n`;
  }
  return `Connection error: ${CONNACK_V3[code] ?? 'Connection Refused: unknown reason.'}\n`;
}
