// Reading request fields the way Zoho does: missing or mistyped values answer 400 code 4 with the
// field name, so a client bug shows up as a clear message instead of a stored garbage value.
import { invalidValue } from './errors.js';

export type Body = Record<string, unknown>;

export function bodyObject(body: unknown): Body {
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw invalidValue('The request body must be a JSON object');
  return body as Body;
}

export function optString(b: Body, field: string, max = 10_000): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string' || v.length > max) throw invalidValue(`Invalid value passed for ${field}`);
  return v;
}

export function reqString(b: Body, field: string, max = 10_000): string {
  const v = optString(b, field, max);
  if (v === undefined || v.trim() === '') throw invalidValue(`${field} is required`);
  return v;
}

/** Zoho accepts whole numbers also as numeric strings. */
export function optInt(b: Body, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = b[field];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw invalidValue(`Invalid value passed for ${field}`);
  return n;
}

export function optBool(b: Body, field: string): boolean | undefined {
  const v = b[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw invalidValue(`Invalid value passed for ${field}`);
}

export function optObject(b: Body, field: string): Record<string, unknown> | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidValue(`Invalid value passed for ${field}`);
  return v as Record<string, unknown>;
}

/** Query flags such as `send=true`: anything but "true" is false, as Zoho reads them. */
export function queryFlag(query: Record<string, unknown>, name: string): boolean {
  const v = query[name];
  return v === 'true' || v === true;
}

export function queryString(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidValue(`Invalid value passed for ${name}`);
  return v;
}
