/**
 * `GET /api/layouts/<device>` and `POST /api/layouts/<device>`: the tiles added to a board's page.
 * Reading needs what reading the board needs (read on `<device>/status`); saving needs write on
 * `$hub/layouts/<device>` (without an ACL file, everyone allowed in has it).
 */
import { ErrorCodes } from '../../errors.js';
import { checkTile, MAX_TILES } from '../layouts/custom-tile.js';
import type { LayoutStore } from '../layouts/layout-store.js';
import type { HttpAccess } from './http-access.js';
import { HttpError, readJson, sendJson } from './http-json.js';
import type { Route } from './routes.js';

export const LAYOUT_TOPIC = '$hub/layouts';

function layoutKey(raw: string): string {
  const key = decodeURIComponent(raw);
  if (key.length === 0 || key.length > 128 || /[+#\0]/.test(key))
    throw new HttpError(400, ErrorCodes.HUB_BAD_REQUEST, `invalid layout name '${key}'`);
  return key;
}

export function layoutRoutes(store: LayoutStore, access: HttpAccess): Route[] {
  return [
    {
      method: 'GET',
      path: /^\/api\/layouts\/([^/]+)$/,
      handle({ res, who, params }) {
        const key = layoutKey(params[0]!);
        if (!access.allows(who, 'read', `${key}/status`))
          throw new HttpError(403, ErrorCodes.HUB_FORBIDDEN, `not allowed: read '${key}'`);
        sendJson(res, 200, { device: key, tiles: store.get(key) });
      },
    },
    {
      method: 'POST',
      path: /^\/api\/layouts\/([^/]+)$/,
      async handle({ req, res, who, params }) {
        const key = layoutKey(params[0]!);
        if (!access.allows(who, 'publish', `${LAYOUT_TOPIC}/${key}`))
          throw new HttpError(
            403,
            ErrorCodes.HUB_FORBIDDEN,
            `not allowed: changing this page's tiles needs write on ${LAYOUT_TOPIC}/${key}`,
          );
        const body = await readJson(req);
        if (!Array.isArray(body.tiles))
          throw new HttpError(400, ErrorCodes.HUB_BAD_REQUEST, "'tiles' must be an array");
        if (body.tiles.length > MAX_TILES)
          throw new HttpError(400, ErrorCodes.HUB_BAD_REQUEST, `at most ${MAX_TILES} tiles`);
        const tiles = body.tiles.map((t, i) => {
          const tile = checkTile(t, i);
          if (typeof tile === 'string') throw new HttpError(400, ErrorCodes.HUB_BAD_REQUEST, tile);
          return tile;
        });
        store.set(key, tiles);
        sendJson(res, 200, { device: key, tiles });
      },
    },
  ];
}
