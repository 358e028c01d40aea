/** JSON text exactly as cJSON (which mosquitto_sub links) prints it. */

/** cJSON's string escaping: ", \, \b \f \n \r \t, other control characters as \u00XX, the rest raw. */
function cjsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 32) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Serialises like cJSON_PrintUnformatted / cJSON_Print (tab-indented), which mosquitto_sub uses. */
export function cjsonPrint(value: unknown, pretty: boolean, depth = 1): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return String(value);
    const short = Number(value.toPrecision(15));
    return String(short === value ? short : Number(value.toPrecision(17)));
  }
  if (typeof value === 'string') return cjsonString(value);
  if (Array.isArray(value)) {
    const items = value.map((v) => cjsonPrint(v, pretty, depth + 1));
    return pretty ? `[${items.join(', ')}]` : `[${items.join(',')}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (!pretty) return `{${entries.map(([k, v]) => `${cjsonString(k)}:${cjsonPrint(v, false)}`).join(',')}}`;
  if (entries.length === 0) return '{\n' + '\t'.repeat(depth - 1) + '}';
  const ind = '\t'.repeat(depth);
  const body = entries.map(([k, v]) => `${ind}${cjsonString(k)}:\t${cjsonPrint(v, true, depth + 1)}`);
  return `{\n${body.join(',\n')}\n${'\t'.repeat(depth - 1)}}`;
}

/** Payload as C sees it through cJSON_CreateString: a NUL-terminated string. */
export function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return (nul >= 0 ? b.subarray(0, nul) : b).toString('utf8');
}
