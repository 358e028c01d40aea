import { execFileSync } from 'node:child_process';

/**
 * Asks Debian's libmosquitto itself (through /usr/bin/python3's ctypes) for its tables: reason and
 * CONNACK strings, property names and types, and which property each packet may carry. Tests compare
 * ours with these rather than with a copy typed from mosquitto's source.
 */
export interface LibmosquittoTables {
  /** mosquitto_reason_string for 0..255 */
  reasons: string[];
  /** mosquitto_connack_string for 0..255 */
  connacks: string[];
  /** mosquitto_string_to_property_info for each name asked: [rc, identifier, type] */
  propertyInfo: Record<string, [number, number, number]>;
  /** mosquitto_string_to_command for each command name asked: [rc, command] */
  commands: Record<string, [number, number]>;
  /** mosquitto_property_check_command(command, identifier) === 0, keyed `${commandName} ${identifier}` */
  allowed: Record<string, boolean>;
}

const SCRIPT = `
import ctypes, json, sys
lib = ctypes.CDLL('libmosquitto.so.1')
lib.mosquitto_reason_string.restype = ctypes.c_char_p
lib.mosquitto_connack_string.restype = ctypes.c_char_p
ask = json.loads(sys.argv[1])
out = {'reasons': [], 'connacks': [], 'propertyInfo': {}, 'commands': {}, 'allowed': {}}
for code in range(256):
    out['reasons'].append(lib.mosquitto_reason_string(code).decode())
    out['connacks'].append(lib.mosquitto_connack_string(code).decode())
for name in ask['properties']:
    i, t = ctypes.c_int(-1), ctypes.c_int(-1)
    rc = lib.mosquitto_string_to_property_info(name.encode(), ctypes.byref(i), ctypes.byref(t))
    out['propertyInfo'][name] = [rc, i.value, t.value]
for name in ask['commands']:
    c = ctypes.c_int(-1)
    rc = lib.mosquitto_string_to_command(name.encode(), ctypes.byref(c))
    out['commands'][name] = [rc, c.value]
    for ident in range(1, 43):
        out['allowed'][name + ' ' + str(ident)] = lib.mosquitto_property_check_command(c.value, ident) == 0
print(json.dumps(out))
`;

export function libmosquittoTables(ask: { properties: string[]; commands: string[] }): LibmosquittoTables {
  const out = execFileSync('/usr/bin/python3', ['-c', SCRIPT, JSON.stringify(ask)], { encoding: 'utf8' });
  return JSON.parse(out) as LibmosquittoTables;
}

/** libmosquitto's MQTT_PROP_TYPE_* numbers by our type names. */
export const LIBMOSQUITTO_PROPERTY_TYPES: Record<string, number> = {
  byte: 1,
  int16: 2,
  int32: 3,
  varint: 4,
  binary: 5,
  string: 6,
  pair: 7,
};
