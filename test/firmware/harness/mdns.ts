// The DNS-SD responder a test board finds the broker with: real DNS packets (dns-packet, the
// encoder bonjour-service itself uses) on a UDP socket bound to 127.0.0.1, answering with the
// records `mothership up` publishes through advertiseBroker (bonjour-service's own Service
// records, same instance name, TXT and SRV), except that the A record points at 127.0.0.1 and
// the SRV at the test broker's port. The board's socket shim maps 224.0.0.251:5353 to this
// socket, and the answer goes back to the board's socket: the test's stand-in for the group.
// Nothing here joins a group or sends multicast.
import dgram from 'node:dgram';
import { hostname } from 'node:os';
import { Bonjour } from 'bonjour-service';
import packet, { type Answer, type Question } from 'dns-packet';
import { MDNS_TXT_VERSION } from '../../../src/transport/mdns.js';

export interface TestResponder {
  /** The responder's loopback port (what the board's shim sends 224.0.0.251:5353 to). */
  port: number;
  /** Queries received, answered or not. */
  queries: number;
  answered: number;
  /** The next `n` queries are dropped (as a lost packet would be). */
  drop(n: number): void;
  /** false: the responder hears queries and answers none (no broker on the LAN). */
  answering: boolean;
  /** Announce the broker on another port (it restarted elsewhere). */
  setBrokerPort(port: number): void;
  /** The instance name announced, `Mothership on <hostname>`. */
  readonly name: string;
  close(): Promise<void>;
}

/** The records advertiseBroker({port, wsPort: undefined, tls: false}) publishes, A -> 127.0.0.1. */
export function brokerRecords(port: number, name: string): Answer[] {
  const { Service } = Bonjour;
  const txt = { version: MDNS_TXT_VERSION, tls: '0' };
  const service = new Service(
    { name, type: 'mqtt', port, txt, probe: false },
    () => {},
    () => {},
  );
  const records = (service.records() as Answer[]).filter((r) => r.type !== 'A' && r.type !== 'AAAA');
  records.push({ name: service.host, type: 'A', ttl: 120, data: '127.0.0.1' });
  return records;
}

const isAny = (q: Question) => (q.type as string) === 'ANY';
const matches = (r: Answer, q: Question) =>
  r.name.toLowerCase() === q.name.toLowerCase() && (isAny(q) || r.type === q.type);

/** bonjour-service's answer to a query: matching records, plus SRV/TXT/A of the PTR targets. */
export function respond(records: Answer[], questions: Question[]): Answer[][] {
  const out: Answer[][] = [];
  for (const q of questions) {
    const answers = records.filter((r) => matches(r, q));
    if (!answers.length) continue;
    const additionals: Answer[] = [];
    if (!isAny(q)) {
      for (const a of answers) {
        if (a.type !== 'PTR') continue;
        for (const r of records) {
          if (r.name === a.data && (r.type === 'SRV' || r.type === 'TXT')) additionals.push(r);
        }
      }
      const targets = new Set(
        additionals.filter((r) => r.type === 'SRV').map((r) => (r.data as { target: string }).target),
      );
      for (const r of records)
        if (targets.has(r.name) && (r.type === 'A' || r.type === 'AAAA')) additionals.push(r);
    }
    out.push(answers, additionals);
  }
  return out;
}

export async function startResponder(brokerPort: number): Promise<TestResponder> {
  const name = `Mothership on ${hostname().split('.')[0]}`;
  let records = brokerRecords(brokerPort, name);
  let dropping = 0;
  const sock = dgram.createSocket('udp4');
  const r: TestResponder = {
    port: 0,
    queries: 0,
    answered: 0,
    answering: true,
    name,
    drop(n) {
      dropping = n;
    },
    setBrokerPort(port) {
      records = brokerRecords(port, name);
    },
    close: () => new Promise((resolve) => sock.close(() => resolve())),
  };
  sock.on('message', (msg, rinfo) => {
    if (rinfo.address !== '127.0.0.1') return;
    let query: packet.Packet;
    try {
      query = packet.decode(msg);
    } catch {
      return;
    }
    if (query.type !== 'query' || !query.questions?.length) return;
    r.queries++;
    if (dropping > 0) {
      dropping--;
      return;
    }
    if (!r.answering) return;
    const parts = respond(records, query.questions);
    for (let i = 0; i < parts.length; i += 2) {
      const buf = packet.encode({
        type: 'response',
        flags: packet.AUTHORITATIVE_ANSWER,
        answers: parts[i],
        additionals: parts[i + 1],
      });
      sock.send(buf, rinfo.port, '127.0.0.1');
      r.answered++;
    }
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => resolve());
  });
  r.port = sock.address().port;
  return r;
}
