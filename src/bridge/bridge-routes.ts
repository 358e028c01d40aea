/**
 * The hub API's bridges. `GET /api/bridges`: each bridge's status (connected, remote address, queue
 * depth, oldest queued message, drops, last error) for the dashboard, as on $SYS; a bridge is listed
 * to whoever may read its $SYS topics (without an ACL file, everyone the hub lets in).
 * `POST /api/bridges` adds one from a mosquitto `connection` block, `POST /api/bridges/<name>/remove`
 * removes an added one: administration, as disconnecting a client (write on `$hub/admin`), since a
 * bridge carries its topics whatever its adder may read or write.
 */
import { ErrorCodes, isMothershipError, type MothershipError } from '../errors.js';
import { ADMIN_TOPIC, type HttpAccess, type HttpIdentity } from '../hub/api/http-access.js';
import { HttpError, readJson, sendJson, stringField } from '../hub/api/http-json.js';
import type { Route } from '../hub/api/routes.js';
import type { BridgeStatus } from './bridge.js';
import type { BridgeControl } from './bridge-control.js';

/** The HTTP status of each refusal of bridge-control.ts. */
const STATUS: Partial<Record<string, number>> = {
  [ErrorCodes.CONFIG_INVALID_VALUE]: 400,
  [ErrorCodes.BRIDGE_NAME_TAKEN]: 409,
  [ErrorCodes.BRIDGE_IN_CONFIG_FILE]: 409,
  [ErrorCodes.BRIDGE_QUEUE_NOT_EMPTY]: 409,
  [ErrorCodes.BRIDGES_NOT_KEPT]: 409,
};

async function answering<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const status = isMothershipError(err) ? STATUS[err.code] : undefined;
    throw status === undefined
      ? err
      : new HttpError(status, (err as MothershipError).code, (err as Error).message);
  }
}

export function bridgeRoutes(
  statuses: () => BridgeStatus[],
  access: () => HttpAccess,
  control: BridgeControl,
): Route[] {
  const requireAdmin = (who: HttpIdentity) => {
    if (!access().allows(who, 'publish', ADMIN_TOPIC))
      throw new HttpError(
        403,
        ErrorCodes.HUB_FORBIDDEN,
        `not allowed: adding and removing bridges is administration, it needs write on ${ADMIN_TOPIC}`,
      );
  };
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
    {
      method: 'POST',
      path: /^\/api\/bridges$/,
      async handle({ req, res, who }) {
        requireAdmin(who);
        const body = await readJson(req);
        const config = stringField(body, 'config')!;
        const source = stringField(body, 'source', false) ?? 'request';
        const by = who.username ?? `anonymous from ${req.socket.remoteAddress}`;
        const added = await answering(() =>
          control.add(config, source, `added through the hub API by ${by}, ${new Date().toISOString()}`),
        );
        sendJson(res, 201, added);
      },
    },
    {
      method: 'POST',
      path: /^\/api\/bridges\/([^/]+)\/remove$/,
      async handle({ req, res, who, params }) {
        requireAdmin(who);
        const name = decodeURIComponent(params[0]!);
        // A body is optional here: `{"force": true}` to drop a queue that is not empty.
        const body = req.headers['content-type'] === undefined ? {} : await readJson(req);
        const dropped = await answering(() => control.remove(name, body.force === true));
        if (dropped === undefined)
          throw new HttpError(404, ErrorCodes.HUB_NOT_FOUND, `no such bridge '${name}'`);
        sendJson(res, 200, { removed: name, dropped });
      },
    },
  ];
}
