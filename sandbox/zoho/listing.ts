// What every Zoho list endpoint shares: page/per_page (per_page at most 200), page_context, the
// `<field>`, `<field>_startswith`, `<field>_contains` search variants, and sort_column/sort_order.
import { invalidValue } from './errors.js';
import { queryString } from './fields.js';
import { parseZohoTimestamp } from './time.js';

type Query = Record<string, unknown>;

export function paginate<T>(list: T[], query: Query) {
  const page = positiveInt(query, 'page', 1);
  const perPage = positiveInt(query, 'per_page', 200);
  if (perPage > 200) throw invalidValue('Invalid value passed for per_page: the maximum is 200');
  const start = (page - 1) * perPage;
  return {
    rows: list.slice(start, start + perPage),
    page_context: { page, per_page: perPage, has_more_page: list.length > start + perPage },
  };
}

function positiveInt(query: Query, name: string, fallback: number): number {
  const v = queryString(query, name);
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw invalidValue(`Invalid value passed for ${name}`);
  return Number(v);
}

/** Case-insensitive match of `value` against `name`, `name_startswith` and `name_contains`. */
export function matchesText(value: string | undefined, query: Query, name: string): boolean {
  const v = (value ?? '').toLowerCase();
  const exact = queryString(query, name);
  if (exact !== undefined && v !== exact.toLowerCase()) return false;
  const starts = queryString(query, `${name}_startswith`);
  if (starts !== undefined && !v.startsWith(starts.toLowerCase())) return false;
  const contains = queryString(query, `${name}_contains`);
  if (contains !== undefined && !v.includes(contains.toLowerCase())) return false;
  return true;
}

/** Exact, case-sensitive match when the parameter is present (IDs). */
export function matchesId(value: string, query: Query, name: string): boolean {
  const q = queryString(query, name);
  return q === undefined || q === value;
}

/** `last_modified_time` filter: records modified at or after the given time. */
export function modifiedSince(query: Query): ((ms: number) => boolean) | undefined {
  const raw = queryString(query, 'last_modified_time');
  if (raw === undefined || raw === '') return undefined;
  const since = parseZohoTimestamp(raw);
  if (since === undefined)
    throw invalidValue('Invalid value passed for last_modified_time: use YYYY-MM-DDTHH:MM:SS+0000');
  // Timestamps are shown to the second: compare at that granularity so "at" includes the same second.
  return (ms) => Math.floor(ms / 1000) * 1000 >= since;
}

/** Date filters `<name>`, `<name>_start`, `<name>_end`, `<name>_before`, `<name>_after` (yyyy-mm-dd). */
export function matchesDate(value: string, query: Query, name: string): boolean {
  const q = (suffix: string) => queryString(query, `${name}${suffix}`);
  const eq = q('');
  const start = q('_start');
  const end = q('_end');
  const before = q('_before');
  const after = q('_after');
  if (eq !== undefined && value !== eq) return false;
  if (start !== undefined && value < start) return false;
  if (end !== undefined && value > end) return false;
  if (before !== undefined && value >= before) return false;
  if (after !== undefined && value <= after) return false;
  return true;
}

export function sortRows<T>(
  rows: T[],
  query: Query,
  columns: Record<string, (row: T) => string | number>,
  defaults: { column: string; order: 'A' | 'D' },
): { rows: T[]; sort_column: string; sort_order: 'A' | 'D' } {
  const column = queryString(query, 'sort_column') || defaults.column;
  const key = columns[column];
  if (!key) throw invalidValue(`Invalid value passed for sort_column: ${column}`);
  const orderRaw = queryString(query, 'sort_order') || defaults.order;
  if (orderRaw !== 'A' && orderRaw !== 'D') throw invalidValue('Invalid value passed for sort_order');
  const sign = orderRaw === 'A' ? 1 : -1;
  // Ties fall back to creation order (reversed for D) so pages stay consistent.
  const sorted = rows
    .map((row, i) => ({ row, i, k: key(row) }))
    .sort((a, b) => (a.k < b.k ? -sign : a.k > b.k ? sign : sign * (a.i - b.i)))
    .map((x) => x.row);
  return { rows: sorted, sort_column: column, sort_order: orderRaw };
}
