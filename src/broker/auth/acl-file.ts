/**
 * mosquitto ACL files (`acl_file`), with mosquitto 2's semantics:
 *
 *   topic [read|write|readwrite|deny] <topic>    rules before any `user` line: anonymous clients
 *   user <username>                              following `topic` rules: that user
 *   pattern [read|write|readwrite|deny] <topic>  everyone, with %c = client id, %u = username
 *
 * A check walks the client's own rules (its user block, or the anonymous block), then the
 * patterns; in each list `deny` rules come first, and the first rule whose topic matches decides.
 * Nothing matching means denied. SUBSCRIBE is always allowed, as in mosquitto 2: what a client may
 * receive is checked per delivered message (`read`), against that message's topic. mayEverRead()
 * serves the opt-in `check_subscribe_acl`, which refuses filters no read rule could ever match.
 */
import { ErrorCodes, MothershipError } from '../../errors.js';
import {
  parseSharedFilter,
  topicFilterProblem,
  topicFiltersOverlap,
  topicMatches,
} from '../../protocol/topic.js';
import { readTextFile } from '../../read-file.js';
import type { AccessAction, Authorizer, ClientIdentity } from '../auth.js';

export type AclAccess = 'read' | 'write' | 'readwrite' | 'deny';

export interface AclRule {
  access: AclAccess;
  /** A topic filter; in patterns it may contain %c and %u. */
  topic: string;
  /** Where the rule came from, for messages. */
  line: number;
}

const accessWords = new Set<string>(['read', 'write', 'readwrite', 'deny']);

/** Denials first, the rest in file order: mosquitto puts `deny` rules at the front of each list. */
function denyFirst(rules: AclRule[]): AclRule[] {
  return [...rules.filter((r) => r.access === 'deny'), ...rules.filter((r) => r.access !== 'deny')];
}

type Verdict = 'allow' | 'deny' | undefined;

function decide(rule: AclRule, wanted: 'read' | 'write'): Verdict {
  if (rule.access === 'deny') return 'deny';
  return rule.access === 'readwrite' || rule.access === wanted ? 'allow' : undefined;
}

/** Substitutes %c and %u anywhere in the pattern (`dev-%c/x` too), as mosquitto 2.0 does. */
function substitute(pattern: string, client: ClientIdentity): string {
  return pattern.replaceAll('%c', client.clientId).replaceAll('%u', client.username ?? '');
}

export class AclFile implements Authorizer {
  readonly anonymous: AclRule[];
  readonly users: ReadonlyMap<string, AclRule[]>;
  readonly patterns: AclRule[];

  constructor(
    readonly file: string,
    rules: { anonymous: AclRule[]; users: Map<string, AclRule[]>; patterns: AclRule[] },
  ) {
    this.anonymous = denyFirst(rules.anonymous);
    this.users = new Map([...rules.users].map(([user, list]) => [user, denyFirst(list)]));
    this.patterns = denyFirst(rules.patterns);
  }

  /** Rules in total, for reload summaries. */
  get ruleCount(): number {
    let n = this.anonymous.length + this.patterns.length;
    for (const list of this.users.values()) n += list.length;
    return n;
  }

  allows(client: ClientIdentity, action: AccessAction, topic: string): boolean {
    if (action === 'subscribe') return true;
    return this.decides(client, action, topic);
  }

  /**
   * For `check_subscribe_acl true` (ours): could any `read`/`readwrite` rule of this client ever let
   * a message matching `filter` through? A filter no such rule overlaps can never deliver anything,
   * so it may be refused at SUBSCRIBE. Deny rules are left to delivery, as mosquitto 2 does.
   */
  mayEverRead(client: ClientIdentity, filter: string): boolean {
    const shared = parseSharedFilter(filter);
    const plain = shared && shared !== 'invalid' ? shared.filter : filter;
    const grants = (r: AclRule) => r.access === 'read' || r.access === 'readwrite';
    const own = client.username === undefined ? this.anonymous : this.users.get(client.username);
    if ((own ?? []).some((r) => grants(r) && topicFiltersOverlap(r.topic, plain))) return true;
    if (/[+#]/.test(client.username ?? '') || /[+#]/.test(client.clientId)) return false;
    return this.patterns.some(
      (r) =>
        grants(r) &&
        !(client.username === undefined && r.topic.includes('%u')) &&
        topicFiltersOverlap(substitute(r.topic, client), plain),
    );
  }

  private decides(client: ClientIdentity, action: 'publish' | 'read', topic: string): boolean {
    const wanted = action === 'publish' ? 'write' : 'read';
    // Nobody publishes into the broker's own $SYS tree.
    if (wanted === 'write' && topic.startsWith('$SYS')) return false;

    const own = client.username === undefined ? this.anonymous : this.users.get(client.username);
    for (const rule of own ?? []) {
      if (topic.startsWith('$') && !rule.topic.startsWith('$')) continue;
      if (!topicMatches(rule.topic, topic)) continue;
      const verdict = decide(rule, wanted);
      if (verdict) return verdict === 'allow';
    }

    if (this.patterns.length === 0) return false;
    // A username or client id holding a wildcard could widen a pattern to other clients' topics.
    if (/[+#]/.test(client.username ?? '') || /[+#]/.test(client.clientId)) return false;
    for (const rule of this.patterns) {
      if (client.username === undefined && rule.topic.includes('%u')) continue;
      if (!topicMatches(substitute(rule.topic, client), topic)) continue;
      const verdict = decide(rule, wanted);
      if (verdict) return verdict === 'allow';
    }
    return false;
  }
}

function invalid(file: string, line: number, why: string): MothershipError {
  return new MothershipError(
    ErrorCodes.ACL_FILE_INVALID,
    `${file}:${line}: ${why}; expected 'user <name>', 'topic [read|write|readwrite|deny] <topic>' or 'pattern [read|write|readwrite|deny] <topic>'`,
  );
}

export function parseAclFile(text: string, file: string): AclFile {
  const anonymous: AclRule[] = [];
  const users = new Map<string, AclRule[]>();
  const patterns: AclRule[] = [];
  let current: AclRule[] = anonymous;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [keyword] = line.split(/\s+/, 1) as [string];
    const rest = line.slice(keyword.length).trim();
    if (keyword === 'user') {
      if (rest === '') throw invalid(file, lineNo, "'user' needs a username");
      current = users.get(rest) ?? [];
      users.set(rest, current);
      continue;
    }
    if (keyword !== 'topic' && keyword !== 'pattern')
      throw invalid(file, lineNo, `unknown keyword '${keyword}'`);
    // One word is the topic (read/write access); with more, the first must name the access.
    const [first = ''] = rest.split(/\s+/, 1);
    const hasAccess = rest.length > first.length;
    if (hasAccess && !accessWords.has(first))
      throw invalid(file, lineNo, `unknown access '${first}' (read, write, readwrite or deny)`);
    const access = (hasAccess ? first : 'readwrite') as AclAccess;
    const topic = hasAccess ? rest.slice(first.length).trim() : rest;
    if (topic === '') throw invalid(file, lineNo, `'${keyword}' needs a topic`);
    if (topicFilterProblem(topic)) throw invalid(file, lineNo, `'${topic}' is not a valid topic filter`);
    (keyword === 'topic' ? current : patterns).push({ access, topic, line: lineNo });
  }
  return new AclFile(file, { anonymous, users, patterns });
}

export async function readAclFile(path: string): Promise<AclFile> {
  const text = await readTextFile(path, 'acl file', ErrorCodes.AUTH_FILE_UNREADABLE);
  return parseAclFile(text, path);
}
