import type { Frequency } from './state.js';

// Zoho's date and timestamp formats. Timestamps are rendered in UTC as `YYYY-MM-DDTHH:MM:SS+0000`
// (Zoho uses the organization's offset; a fixed +0000 keeps tests deterministic).

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function zohoTimestamp(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+0000`
  );
}

/**
 * Parses a `last_modified_time` filter. A literal `+` in a query string decodes to a space unless the
 * client encoded it as %2B; Zoho accepts both, so a space before the offset is read as `+`.
 */
export function parseZohoTimestamp(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:(Z)|([+\- ])(\d{2}):?(\d{2}))$/.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, z, sign, oh, om] = m;
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(utc)) return undefined;
  if (z) return utc;
  const offsetMin = (Number(oh) * 60 + Number(om)) * (sign === '-' ? -1 : 1);
  return utc - offsetMin * 60_000;
}

export function today(ms = Date.now()): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function isIsoDate(text: unknown): text is string {
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(text);
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function addPeriod(date: string, frequency: Frequency, n: number): string {
  switch (frequency) {
    case 'days':
      return addDays(date, n);
    case 'weeks':
      return addDays(date, 7 * n);
    case 'months':
    case 'years': {
      const d = new Date(`${date}T00:00:00Z`);
      const months = frequency === 'months' ? n : 12 * n;
      const day = d.getUTCDate();
      d.setUTCDate(1);
      d.setUTCMonth(d.getUTCMonth() + months);
      // Clamp the 31st to the last day of a shorter month instead of spilling into the next one.
      const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
      d.setUTCDate(Math.min(day, last));
      return d.toISOString().slice(0, 10);
    }
  }
}
