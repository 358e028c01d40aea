/**
 * `GET /api/bridges`: each bridge's status (connected, remote address, queue depth, oldest queued
 * message, drops, last error) for the dashboard, as on $SYS; a bridge is listed to whoever may read
 * its $SYS topics (without an ACL file, everyone the hub lets in).
 */
import type { HttpAccess } from '../hub/api/http-access.js';
import { sendJson } from '../hub/api/http-json.js';
import type { Route } from '../hub/api/routes.js';
import type { BridgeStatus } from './bridge.js';

export function bridgeRoutes(statuses: () => BridgeStatus[], access: () => HttpAccess): Route[] {
  return [
    {
      method: 'GET',
      path: /^\/api\/bridges$/,
      handle({ res, who }) {
        const visible = statuses().filter((s) =>
          access().allows(who, 'read', `$SYS/broker/bridges/${s.name}/connected`),
        );
        sendJson(res, 200, { bridges: visible });
      },
    },
  ];
}
