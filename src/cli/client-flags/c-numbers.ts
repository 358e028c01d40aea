/** Numbers read from flag values the way mosquitto's C reads them, so odd values mean the same. */

/** C's atoi: leading whitespace, optional sign, digits; anything else stops it (so "abc" is 0). */
export function atoi(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  const n = Number.parseInt(m[1]!, 10);
  // atoi wraps into a C int; keep it in range so comparisons behave like mosquitto's.
  return n > 2147483647 || n < -2147483648 ? n | 0 : n;
}

/** C's atof: the longest leading decimal number, else 0. */
export function atof(s: string): number {
  const m = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(s);
  return m ? Number.parseFloat(m[0]) : 0;
}

/** strtol(s, &end, 0) that must consume the whole string: decimal, 0x hex or 0 octal. */
export function parseCInteger(s: string): number | undefined {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.exec(s);
  if (!m) return undefined;
  const body = m[2]!;
  const n = /^0[xX]/.test(body)
    ? Number.parseInt(body.slice(2), 16)
    : body.length > 1 && body.startsWith('0')
      ? Number.parseInt(body, 8)
      : Number.parseInt(body, 10);
  return m[1] === '-' ? -n : n;
}
