// Xero answers with Microsoft JSON dates, `/Date(1552262400000+0000)/` (milliseconds since the epoch, UTC,
// with an informational offset), in Date, DueDate, UpdatedDateUTC and the envelope's DateTimeUTC; the
// identity server and webhooks use ISO 8601. Requests send `YYYY-MM-DD`.

// Anchored, no nested quantifiers: linear in the input, which is capped anyway.
const MS_DATE = /^\/Date\((-?\d{1,15})([+-]\d{4})?\)\/$/;
const MAX_DATE_CHARS = 64;

/** Epoch milliseconds of a Xero date (`/Date(…)/` or ISO 8601); undefined when it is neither. */
export function parseXeroDate(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > MAX_DATE_CHARS) return undefined;
  const ms = MS_DATE.exec(value);
  if (ms) return Number(ms[1]); // the offset only says where the user was: the number is already UTC
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  // An ISO time without a zone (Xero's DateString, "2019-03-11T00:00:00") is UTC, not the server's local time.
  const iso = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) ? `${value}Z` : value;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** `YYYY-MM-DD` (UTC) for a request's Date, DueDate or Schedule.StartDate. */
export function xeroDay(at: Date | number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** The `If-Modified-Since` header value: UTC date-time to the second (the contract's format: date-time). */
export function ifModifiedSince(at: Date | number): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
