/**
 * A message's numeric fields, read in the page exactly as the hub's history reads them (the same
 * parser: `t=24.1C, h=26.5%.` gives /t and /h), so a live value lands on the series a chart shows.
 */
import { pathPointer, payloadFields } from '../hub/history/payload-fields';
import type { LiveMessage } from './api';
import { payloadBytes } from './format';

export function fieldValue(m: LiveMessage | undefined, field: string): number | undefined {
  if (!m) return undefined;
  for (const f of payloadFields(payloadBytes(m.payload, m.encoding)))
    if (pathPointer(f.path) === field) return f.value;
  return undefined;
}
