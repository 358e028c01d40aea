/**
 * The hub: what the broker knows, kept and served for people. It reads the broker's own events (it
 * runs in the broker's process, never as a network client), keeps the device registry and the topic
 * tree, and serves the JSON API, the live WebSocket and /metrics on the WebSocket listener's port,
 * beside MQTT over WebSocket at /mqtt.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Authenticator, Authorizer } from '../broker/auth.js';
import type { Message } from '../broker/types.js';
import { ErrorCodes } from '../errors.js';
import type { HttpService } from '../transport/listen-options.js';
import { historyRoutes } from './api/history-routes.js';
import { HttpAccess } from './api/http-access.js';
import { HttpError, sendError, sendJson } from './api/http-json.js';
import { layoutRoutes } from './api/layout-routes.js';
import { LiveUpdates } from './api/live.js';
import { renderMetrics } from './api/metrics.js';
import { hubRoutes, type Route } from './api/routes.js';
import { StaticFiles } from './api/static-files.js';
import type { BrokerView } from './broker-view.js';
import { DeviceRegistry } from './devices/device-registry.js';
import type { HistoryRecorder } from './history/index.js';
import type { LayoutStore } from './layouts/layout-store.js';
import { TopicTree } from './topics/topic-tree.js';

export interface HubOptions {
  broker: BrokerView;
  /** The broker's own access rules: the API follows them exactly. */
  access: Authenticator & Authorizer;
  /** The listener name HTTP requests count as for per-listener rules (set once listening). */
  listener?: () => string;
  /** Extra routes a feature adds (the dashboard's layouts). */
  routes?: Route[];
  /** The history recorder; its endpoints (messages, series, export) exist only with it. */
  history?: HistoryRecorder;
  /** The dashboard's built files (dist/web), served at `/`; without it only the API answers. */
  staticDir?: string;
  /** The tiles added to board pages (/api/layouts); without it that endpoint does not exist. */
  layouts?: LayoutStore;
}

export class Hub {
  readonly devices: DeviceRegistry;
  readonly topics = new TopicTree();
  readonly access: HttpAccess;
  private readonly live: LiveUpdates;
  private readonly routes: Route[];
  private readonly onPublish = (m: Message) => this.topics.record(m);
  /** What the WebSocket listener serves besides MQTT. */
  readonly http: HttpService;
  private readonly broker: BrokerView;
  readonly history: HistoryRecorder | undefined;
  private readonly files: StaticFiles | undefined;

  constructor(options: HubOptions) {
    this.broker = options.broker;
    for (const m of options.broker.retained()) this.topics.markRetained(m.topic);
    options.broker.on('publish', this.onPublish);
    // With the history, the last disconnects per client survive a restart (kept in history.db).
    this.devices = new DeviceRegistry(options.broker, Date.now, options.history?.disconnects);
    this.access = new HttpAccess(options.access, options.listener ?? (() => 'ws'));
    this.live = new LiveUpdates(options.broker, this.access, this.topics, this.devices);
    this.routes = [
      ...hubRoutes({
        broker: options.broker,
        devices: this.devices,
        topics: this.topics,
        access: this.access,
      }),
      ...(options.history ? historyRoutes(options.history, this.access) : []),
      ...(options.layouts ? layoutRoutes(options.layouts, this.access) : []),
      ...(options.routes ?? []),
    ];
    this.history = options.history;
    this.files = options.staticDir !== undefined ? new StaticFiles(options.staticDir) : undefined;
    options.history?.attach(options.broker);
    this.http = {
      request: (req, res) => void this.serve(req, res),
      upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => this.live.upgrade(req, socket, head),
    };
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://hub');
      if (url.pathname === '/metrics' && req.method === 'GET') {
        if (!(await this.access.identify(req)))
          throw new HttpError(401, ErrorCodes.HUB_LOGIN_REQUIRED, 'log in to read the metrics');
        const body = renderMetrics(this.broker, [
          {
            name: 'mothership_hub_topics',
            type: 'gauge',
            help: "Topics in the hub's tree.",
            value: () => this.topics.size,
          },
        ]);
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(body);
        return;
      }
      if (!url.pathname.startsWith('/api/') && this.files) {
        await this.files.serve(req, res, url.pathname);
        return;
      }
      if (!url.pathname.startsWith('/api/')) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('Mothership: the API is under /api/ (docs/api.md); MQTT over WebSocket is at /mqtt.\n');
        return;
      }
      for (const route of this.routes) {
        const match = route.path.exec(url.pathname);
        if (!match) continue;
        if (route.method !== req.method) continue;
        if (route.method === 'POST') {
          const problem = this.access.crossSiteProblem(req);
          if (problem) throw new HttpError(403, ErrorCodes.HUB_CROSS_SITE, problem);
        }
        const who = route.open
          ? { clientId: '$hub-http', username: undefined, loggedIn: false }
          : await this.access.identify(req);
        if (!who)
          throw new HttpError(
            401,
            ErrorCodes.HUB_LOGIN_REQUIRED,
            'log in with a user of the password file (POST /api/login)',
          );
        await route.handle({ req, res, url, who, params: match.slice(1) });
        return;
      }
      throw new HttpError(404, ErrorCodes.HUB_NOT_FOUND, `no endpoint ${req.method} ${url.pathname}`);
    } catch (err) {
      if (err instanceof HttpError) sendError(res, err);
      else if (!res.headersSent)
        sendJson(res, 500, { error: { code: ErrorCodes.HUB_INTERNAL, message: (err as Error).message } });
      else res.destroy();
    }
  }

  /** Resolves once the history has committed its last second and closed. */
  async close(): Promise<void> {
    this.broker.off('publish', this.onPublish);
    this.live.close();
    this.devices.close();
    await this.history?.close();
  }
}
