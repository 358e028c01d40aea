import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { PROPERTIES, propertyByName } from '../../src/protocol/properties.js';
import { propertyProblem } from '../../src/protocol/property-rules.js';
import { reasonName } from '../../src/protocol/reason-names.js';
import { LIBMOSQUITTO_PROPERTY_TYPES, libmosquittoTables } from '../helpers/libmosquitto.js';

// The catalogue must agree with mqtt-packet, which encodes and decodes what the catalogue describes.
const constants = createRequire(import.meta.url)('mqtt-packet/constants.js') as {
  properties: Record<string, number>;
  propertiesTypes: Record<string, string>;
};

describe('the v5 property catalogue', () => {
  it("has every property mqtt-packet knows, with mqtt-packet's identifier and wire type", () => {
    const wireType: Record<string, string> = { int8: 'byte', var: 'varint' };
    expect(PROPERTIES.map((p) => p.key).sort()).toEqual(Object.keys(constants.properties).sort());
    for (const p of PROPERTIES) {
      expect(p.id, p.name).toBe(constants.properties[p.key]);
      const type = constants.propertiesTypes[p.key]!;
      expect(p.type, p.name).toBe(wireType[type] ?? type);
    }
  });

  it("has libmosquitto's names, identifiers and types", () => {
    const lib = libmosquittoTables({ properties: PROPERTIES.map((p) => p.name), commands: [] });
    for (const p of PROPERTIES) {
      expect(lib.propertyInfo[p.name], p.name).toEqual([0, p.id, LIBMOSQUITTO_PROPERTY_TYPES[p.type]]);
    }
  });

  it('finds a property by its hyphenated name in any case', () => {
    expect(propertyByName('Content-Type')?.key).toBe('contentType');
    expect(propertyByName('content_type')).toBeUndefined();
  });

  it('[MQTT-3.3.4-6] a client PUBLISH with a Subscription Identifier is a Protocol Error', () => {
    expect(propertyProblem('publish', { subscriptionIdentifier: 3 })?.kind).toBe('protocol-error');
  });

  it("refuses a property on a client's packet that the catalogue does not list for it", () => {
    for (const cmd of ['publish', 'puback', 'subscribe', 'unsubscribe', 'disconnect']) {
      for (const p of PROPERTIES) {
        if (cmd === 'publish' && p.key === 'subscriptionIdentifier') continue;
        const problem = propertyProblem(cmd, { [p.key]: p.type === 'pair' ? { k: 'v' } : 1 });
        expect(problem === undefined, `${p.name} on ${cmd}`).toBe(p.packets.includes(cmd as 'publish'));
      }
    }
  });
});

describe('reason code names', () => {
  it("are libmosquitto's words for every code, 'Unknown reason' where MQTT defines none", () => {
    const lib = libmosquittoTables({ properties: [], commands: [] });
    const ours = Array.from({ length: 256 }, (_, code) => reasonName(code));
    expect(ours).toEqual(lib.reasons);
    expect(reasonName(0x03)).toBe('Unknown reason');
  });
});
