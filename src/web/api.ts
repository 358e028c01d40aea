/**
 * The hub's JSON API (docs/api.md), the page's only way to the broker. Errors come back as ApiError
 * with the hub's code and message, which the screens show as they are; a 401 also tells the app to
 * show the login form.
 */

import type { Device as HubDevice } from '../hub/devices/device-registry';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const loginListeners = new Set<() => void>();

/** Called whenever the hub answers 401: the app shows the login form. */
export function onLoginRequired(listener: () => void): () => void {
  loginListeners.add(listener);
  return () => loginListeners.delete(listener);
}

export async function api<T>(path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(
      path,
      body === undefined
        ? { credentials: 'same-origin' }
        : {
            method: 'POST',
            credentials: 'same-origin',
            // The anti-CSRF header the hub requires on every request that changes something.
            headers: { 'content-type': 'application/json', 'x-mothership': '1' },
            body: JSON.stringify(body),
          },
    );
  } catch {
    throw new ApiError(0, 'NETWORK', 'the hub does not answer (is mothership up running?)');
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'BAD_ANSWER', `unexpected answer from the hub (HTTP ${res.status})`);
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } }).error;
    if (res.status === 401) for (const l of loginListeners) l();
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? `HTTP ${res.status}`);
  }
  return json as T;
}

export const q = encodeURIComponent;

export interface DeviceInfo {
  app?: string;
  fw?: string;
  ip?: string | null;
  rssi?: number | null;
  heap?: number;
  reset?: string;
  pins?: Record<string, number>;
  pub?: string[];
  sub?: string[];
}

/** A board as the hub's registry describes it, with our firmware's info typed. */
export type Device = Omit<HubDevice, 'info'> & { info?: DeviceInfo };
export type { ClientDetails, DisconnectEvent as Disconnect } from '../hub/devices/device-registry';

export interface Me {
  username: string | null;
  loggedIn: boolean;
  admin: boolean;
}

export type { LiveMessage } from '../hub/api/live';
export type { TopicNodeInfo as TopicNode } from '../hub/topics/topic-tree';

export interface StoredMessage {
  topic: string;
  time: number;
  qos: number;
  retain: boolean;
  clientId: string | null;
  payload: string;
  encoding: 'utf8' | 'base64';
  size: number;
}

export interface Series {
  topic: string;
  field: string;
  unit: string | null;
}

export interface Point {
  t: number;
  n: number;
  min: number;
  max: number;
  avg: number;
}
