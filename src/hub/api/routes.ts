/**
 * The hub's JSON endpoints (docs/api.md). Each route states the right it needs; the access rules are
 * MQTT's (see http-access.ts). Reads of topics are filtered by the ACL's read right; actions need the
 * publish right on their topic, or on `$hub/admin` for administration.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { QoS } from '../../broker/types.js';
import { ErrorCodes } from '../../errors.js';
import { topicFilterProblem, topicMatches, topicNameProblem } from '../../protocol/topic.js';
import type { BrokerView } from '../broker-view.js';
import type { DeviceRegistry } from '../devices/device-registry.js';
import { MAX_CHILDREN_PAGE, type TopicTree } from '../topics/topic-tree.js';
import { ADMIN_TOPIC, HttpAccess, type HttpIdentity, SESSION_COOKIE } from './http-access.js';
import { HttpError, readJson, sendJson, stringField } from './http-json.js';
import { publishProperties } from './publish-properties.js';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  who: HttpIdentity;
  params: string[];
}

export interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  /** Anyone may call it (login): no identity needed. */
  open?: boolean;
  handle(ctx: RouteContext): Promise<void> | void;
}

export interface RouteDeps {
  broker: BrokerView;
  devices: DeviceRegistry;
  topics: TopicTree;
  access: HttpAccess;
}

function forbidden(what: string): HttpError {
  return new HttpError(403, ErrorCodes.HUB_FORBIDDEN, `not allowed: ${what}`);
}

function notFound(what: string): HttpError {
  return new HttpError(404, ErrorCodes.HUB_NOT_FOUND, `no such ${what}`);
}

function qosField(body: Record<string, unknown>): QoS {
  const q = body.qos ?? 0;
  if (q !== 0 && q !== 1 && q !== 2)
    throw new HttpError(400, ErrorCodes.HUB_BAD_REQUEST, "'qos' must be 0, 1 or 2");
  return q;
}

function topicField(body: Record<string, unknown>, name = 'topic'): string {
  const topic = stringField(body, name)!;
  const problem = topicNameProblem(topic);
  if (problem) throw new HttpError(400, ErrorCodes.HUB_BAD_REQUEST, `invalid topic '${topic}': ${problem}`);
  return topic;
}

export function hubRoutes({ broker, devices, topics, access }: RouteDeps): Route[] {
  const mayRead = (who: HttpIdentity, topic: string) => access.allows(who, 'read', topic);
  const requireAdmin = (who: HttpIdentity) => {
    if (!access.allows(who, 'publish', ADMIN_TOPIC))
      throw forbidden(`administration needs write on ${ADMIN_TOPIC}`);
  };
  return [
    {
      method: 'POST',
      path: /^\/api\/login$/,
      open: true,
      async handle({ req, res }) {
        const body = await readJson(req);
        const token = await access.login(req, stringField(body, 'username')!, stringField(body, 'password')!);
        if (!token) throw new HttpError(401, ErrorCodes.HUB_LOGIN_REQUIRED, 'wrong username or password');
        res.setHeader('set-cookie', HttpAccess.sessionCookie(token, 'encrypted' in req.socket));
        sendJson(res, 200, { username: body.username });
      },
    },
    {
      method: 'POST',
      path: /^\/api\/logout$/,
      handle({ req, res }) {
        access.logout(req);
        res.setHeader('set-cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
        sendJson(res, 200, {});
      },
    },
    {
      method: 'GET',
      path: /^\/api\/me$/,
      handle({ res, who }) {
        sendJson(res, 200, {
          username: who.username ?? null,
          loggedIn: who.loggedIn,
          admin: access.allows(who, 'publish', ADMIN_TOPIC),
        });
      },
    },
    {
      method: 'GET',
      path: /^\/api\/devices$/,
      handle({ res, who }) {
        sendJson(res, 200, { devices: devices.list().filter((d) => mayRead(who, `${d.id}/status`)) });
      },
    },
    {
      method: 'GET',
      path: /^\/api\/devices\/([^/]+)$/,
      handle({ res, who, params }) {
        const id = decodeURIComponent(params[0]!);
        const device = devices.get(id);
        if (!device || !mayRead(who, `${id}/status`)) throw notFound(`device '${id}'`);
        sendJson(res, 200, device);
      },
    },
    {
      method: 'GET',
      path: /^\/api\/clients$/,
      handle({ res, who }) {
        requireAdmin(who);
        const sessions = new Map(broker.sessionInfo().map((s) => [s.clientId, s]));
        const subscriptions = broker.subscriptions();
        const clients = broker.clients().map((c) => ({
          ...c,
          session: sessions.get(c.clientId),
          subscriptions: subscriptions
            .filter((s) => s.clientId === c.clientId)
            .map((s) => ({ filter: s.filter, qos: s.qos })),
          disconnects: devices.disconnectsOf(c.clientId),
        }));
        const offline = [...sessions.values()].filter((s) => !s.online);
        const gone = devices.recentlyGone(new Set(clients.map((c) => c.clientId)));
        sendJson(res, 200, { clients, offlineSessions: offline, recentlyDisconnected: gone });
      },
    },
    {
      method: 'POST',
      path: /^\/api\/clients\/([^/]+)\/disconnect$/,
      handle({ res, who, params }) {
        requireAdmin(who);
        const id = decodeURIComponent(params[0]!);
        if (!broker.disconnectClient(id)) throw notFound(`connected client '${id}'`);
        sendJson(res, 200, { disconnected: id });
      },
    },
    {
      method: 'GET',
      path: /^\/api\/topics$/,
      handle({ res, who, url }) {
        const parent = url.searchParams.get('parent') ?? undefined;
        const after = url.searchParams.get('after') ?? undefined;
        const limit = Number(url.searchParams.get('limit') ?? MAX_CHILDREN_PAGE);
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX_CHILDREN_PAGE)
          throw new HttpError(
            400,
            ErrorCodes.HUB_BAD_REQUEST,
            `'limit' must be an integer 1..${MAX_CHILDREN_PAGE}`,
          );
        const page = topics.children(parent === '' ? undefined : parent, { after, limit });
        if (!page) throw notFound(`topic '${parent}'`);
        // Intermediate levels show (their names only); a topic's figures need the read right.
        sendJson(res, 200, {
          parent: parent ?? null,
          children: page.children.filter((n) => n.children > 0 || mayRead(who, n.topic)),
          total: page.total,
          next: page.next ?? null,
        });
      },
    },
    {
      method: 'GET',
      path: /^\/api\/topics\/search$/,
      handle({ res, who, url }) {
        const q = url.searchParams.get('q') ?? '';
        if (q === '') throw new HttpError(400, ErrorCodes.HUB_BAD_REQUEST, "'q' is required");
        sendJson(res, 200, {
          topics: topics
            .search(q, 200)
            .filter((n) => mayRead(who, n.topic))
            .slice(0, 100),
        });
      },
    },
    {
      method: 'POST',
      path: /^\/api\/publish$/,
      async handle({ req, res, who }) {
        const body = await readJson(req);
        const topic = topicField(body);
        if (!access.allows(who, 'publish', topic)) throw forbidden(`publish to '${topic}'`);
        const encoding = stringField(body, 'encoding', false) ?? 'utf8';
        if (encoding !== 'utf8' && encoding !== 'base64')
          throw new HttpError(400, ErrorCodes.HUB_BAD_REQUEST, "'encoding' must be utf8 or base64");
        const payload = Buffer.from(stringField(body, 'payload', false) ?? '', encoding);
        const qos = qosField(body);
        const retain = body.retain === true;
        const properties = publishProperties(body.properties);
        broker.publish({ topic, payload, qos, retain, ...(properties ? { properties } : {}) });
        sendJson(res, 200, { topic, bytes: payload.length, qos, retain });
      },
    },
    {
      method: 'POST',
      path: /^\/api\/retained\/clear$/,
      async handle({ req, res, who }) {
        const body = await readJson(req);
        const filter = stringField(body, 'filter')!;
        const problem = topicFilterProblem(filter);
        if (problem)
          throw new HttpError(400, ErrorCodes.HUB_BAD_REQUEST, `invalid filter '${filter}': ${problem}`);
        const matching = broker
          .retained()
          .map((m) => m.topic)
          .filter((t) => topicMatches(filter, t) && !t.startsWith('$'))
          .sort();
        const refused = matching.filter((t) => !access.allows(who, 'publish', t));
        if (refused.length > 0) throw forbidden(`clear '${refused[0]}' (and ${refused.length - 1} more)`);
        // Without confirm: say how many, so the page can ask "Clear 12 retained messages?".
        if (body.confirm !== true) {
          sendJson(res, 200, { count: matching.length, topics: matching.slice(0, 50), cleared: 0 });
          return;
        }
        for (const topic of matching)
          broker.publish({ topic, payload: Buffer.alloc(0), qos: 0, retain: true });
        sendJson(res, 200, {
          count: matching.length,
          topics: matching.slice(0, 50),
          cleared: matching.length,
        });
      },
    },
  ];
}
