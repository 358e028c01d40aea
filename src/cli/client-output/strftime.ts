/** C's strftime for the conversions mosquitto_sub's output uses, in local time as C has it. */

export const pad2 = (n: number) => String(n).padStart(2, '0');
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** The zone as strftime's %z: "+0100". */
export function tzOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
}

/** The strftime conversions mosquitto_sub's -F '@' specifiers can use, in local time like C's. */
export function strftime(fmt: string, d: Date): string {
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    if (fmt[i] !== '%' || i === fmt.length - 1) {
      out += fmt[i];
      continue;
    }
    const c = fmt[++i]!;
    const start = new Date(d.getFullYear(), 0, 1);
    const yday = Math.floor((d.getTime() - start.getTime()) / 86_400_000) + 1;
    const h12 = d.getHours() % 12 === 0 ? 12 : d.getHours() % 12;
    const map: Record<string, () => string> = {
      a: () => DAYS[d.getDay()]!.slice(0, 3),
      A: () => DAYS[d.getDay()]!,
      b: () => MONTHS[d.getMonth()]!.slice(0, 3),
      h: () => MONTHS[d.getMonth()]!.slice(0, 3),
      B: () => MONTHS[d.getMonth()]!,
      C: () => pad2(Math.floor(d.getFullYear() / 100)),
      d: () => pad2(d.getDate()),
      D: () => `${pad2(d.getMonth() + 1)}/${pad2(d.getDate())}/${pad2(d.getFullYear() % 100)}`,
      e: () => String(d.getDate()).padStart(2, ' '),
      F: () => `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`,
      H: () => pad2(d.getHours()),
      I: () => pad2(h12),
      j: () => String(yday).padStart(3, '0'),
      k: () => String(d.getHours()).padStart(2, ' '),
      l: () => String(h12).padStart(2, ' '),
      m: () => pad2(d.getMonth() + 1),
      M: () => pad2(d.getMinutes()),
      n: () => '\n',
      p: () => (d.getHours() < 12 ? 'AM' : 'PM'),
      P: () => (d.getHours() < 12 ? 'am' : 'pm'),
      R: () => `${pad2(d.getHours())}:${pad2(d.getMinutes())}`,
      s: () => String(Math.floor(d.getTime() / 1000)),
      S: () => pad2(d.getSeconds()),
      t: () => '\t',
      T: () => `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`,
      u: () => String(d.getDay() === 0 ? 7 : d.getDay()),
      w: () => String(d.getDay()),
      y: () => pad2(d.getFullYear() % 100),
      Y: () => String(d.getFullYear()),
      z: () => tzOffset(d),
      Z: () =>
        Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
          .formatToParts(d)
          .find((p) => p.type === 'timeZoneName')?.value ?? '',
      '%': () => '%',
    };
    out += map[c]?.() ?? `%${c}`;
  }
  return out;
}
