/** JSON in and out over node:http, with bounded bodies and one error shape: `{ error: { code, message } }`. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ErrorCode, ErrorCodes } from '../../errors.js';

const MAX_BODY = 1024 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { error: { code: err.code, message: err.message } });
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json'))
    throw new HttpError(
      415,
      ErrorCodes.HUB_BAD_REQUEST,
      'the body must be JSON (content-type: application/json)',
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY)
      throw new HttpError(413, ErrorCodes.HUB_BAD_REQUEST, `the body is over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new HttpError(400, ErrorCodes.HUB_BAD_REQUEST, 'the body must be a JSON object');
}

/** A string field of a request body or query, checked. */
export function stringField(
  body: Record<string, unknown>,
  name: string,
  required = true,
): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) {
    if (required) throw new HttpError(400, ErrorCodes.HUB_BAD_REQUEST, `'${name}' is required`);
    return undefined;
  }
  if (typeof v !== 'string')
    throw new HttpError(400, ErrorCodes.HUB_BAD_REQUEST, `'${name}' must be a string`);
  return v;
}
