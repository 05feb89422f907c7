// The fake's clock (tests move it forward to expire tokens, end grace periods and idempotency windows, open
// a new rate-limit minute or day) and Xero's date formats: "/Date(ms+0000)/" in answers, ISO beside it.
export class Clock {
  private offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

const DAY_MS = 86_400_000;

/** Xero's JSON date: "/Date(1552262400000+0000)/". */
export const xeroDate = (ms: number): string => `/Date(${ms}+0000)/`;
/** "2018-10-20T00:00:00" (how the fake writes a date into a request it builds itself). */
export const isoLocal = (ms: number): string => new Date(ms).toISOString().slice(0, 19);
/** UpdatedDateUTCString: "2019-03-05T18:59:06Z". */
export const isoUtc = (ms: number): string => `${isoLocal(ms)}Z`;

export const startOfDay = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;
export const addDays = (ms: number, days: number): number => ms + days * DAY_MS;

export function addMonths(ms: number, months: number, day?: number): number {
  const d = new Date(ms);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day ?? d.getUTCDate(), last));
  return target.getTime();
}

/**
 * A date Xero accepts in a request: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS" (read as UTC) or "/Date(ms±zzzz)/";
 * undefined for anything else. Bounded: the patterns are anchored and have no nested repetition.
 */
export function parseXeroDate(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const wcf = /^\/Date\((-?\d{1,15})([+-]\d{4})?\)\/$/.exec(value);
  if (wcf) return Number(wcf[1]);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(value);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  const back = new Date(ms);
  return back.getUTCDate() === Number(m[3]) && back.getUTCMonth() === Number(m[2]) - 1 ? ms : undefined;
}

/** If-Modified-Since as clients send it: ISO 8601 (xero-node) or an HTTP date. */
export function parseModifiedSince(value: string | undefined): number | undefined {
  if (!value || value.length > 64) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(value) ? `${value}Z` : value);
  return Number.isNaN(ms) ? undefined : ms;
}
