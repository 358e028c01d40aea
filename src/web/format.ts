/** How times, sizes and payloads read on the page. */

export function ago(at: number | undefined, now: number): string {
  if (at === undefined) return 'never';
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function clock(at: number | undefined): string {
  if (at === undefined) return '–';
  const d = new Date(at);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

export function bytes(n: number | undefined): string {
  if (n === undefined || n === null) return '–';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Wi-Fi signal in words as well as dBm. */
export function signal(rssi: number | null | undefined): string {
  if (rssi === undefined || rssi === null) return '–';
  const words = rssi >= -55 ? 'excellent' : rssi >= -67 ? 'good' : rssi >= -75 ? 'fair' : 'weak';
  return `${rssi} dBm (${words})`;
}

export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function payloadBytes(payload: string, encoding: 'utf8' | 'base64'): Uint8Array {
  return encoding === 'base64' ? base64ToBytes(payload) : new TextEncoder().encode(payload);
}

export function hex(data: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += 16) {
    const row = [...data.slice(i, i + 16)];
    const h = row.map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const a = row.map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${i.toString(16).padStart(6, '0')}  ${h.padEnd(47)}  ${a}`);
  }
  return lines.join('\n');
}

/** Pretty JSON when the payload is JSON, else undefined. */
export function prettyJson(text: string): string | undefined {
  const t = text.trim();
  if (t[0] !== '{' && t[0] !== '[') return undefined;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return undefined;
  }
}
