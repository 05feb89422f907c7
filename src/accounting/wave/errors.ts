// Wave's answers that are not what was asked for, as RelayErrors. Wave answers most failures with HTTP 200:
// a query's `errors[].extensions.code`, a mutation's `didSucceed: false` with `inputErrors` (Errors page).
// A refusal with Wave's own words is permanent (the same request would be refused again); the token, the
// server's state and the rate limit are retried.
import type { AxiosResponse } from 'axios';
import { permanent, retryable, type RelayError } from '../../errors.js';

const MAX_MESSAGES = 10;
const MAX_MESSAGE_CHARS = 300;

export interface WaveGraphQLError {
  message?: unknown;
  path?: unknown;
  extensions?: { code?: unknown } | null;
}

export interface WaveInputError {
  path?: unknown;
  message?: unknown;
  code?: unknown;
}

/** Distinct, capped texts: one answer cannot flood a note. */
function texts(values: unknown[]): string[] {
  const seen = new Set<string>();
  for (const v of values) {
    const text = typeof v === 'string' ? v.trim().slice(0, MAX_MESSAGE_CHARS) : '';
    if (text) seen.add(text);
    if (seen.size >= MAX_MESSAGES) break;
  }
  return [...seen];
}

/** A GraphQL error's code (UNAUTHENTICATED, NOT_FOUND, …), '' when it has none. */
export function errorCode(e: WaveGraphQLError | undefined): string {
  const code = e?.extensions?.code;
  return typeof code === 'string' ? code.slice(0, 64) : '';
}

export function isUnauthenticated(errors: readonly WaveGraphQLError[] | undefined): boolean {
  return (errors ?? []).some((e) => errorCode(e) === 'UNAUTHENTICATED');
}

/**
 * The errors of a GraphQL answer (HTTP 200 or 400) as one RelayError. `operation` names the document;
 * `mutation`: a server error may have left the write done (uncertain).
 */
export function translateGraphQLErrors(errors: readonly WaveGraphQLError[], o: { operation: string; mutation: boolean; status: number }): RelayError {
  const list = errors.slice(0, 50);
  const codes = new Set(list.map(errorCode));
  const said = texts(list.map((e) => e.message)).join('; ') || 'no message';
  const opts = { status: o.status, service: 'wave' as const };
  if (codes.has('UNAUTHENTICATED')) {
    return retryable('wave_unauthorized', `Wave refused the access token (${said}): the connection may lack a scope the relay needs, or the token was revoked. Reconnect Wave on the /connect page (or replace WAVE_ACCESS_TOKEN) if this persists.`, {
      ...opts,
      retryAfterMs: 5 * 60_000,
    });
  }
  if (codes.has('GRAPHQL_VALIDATION_FAILED') || codes.has('BAD_USER_INPUT') || codes.has('GRAPHQL_PARSE_FAILED')) {
    return permanent('wave_bug', `Wave refused the relay's ${o.operation} request as malformed (${[...codes].filter(Boolean).join(', ')}: ${said}). This is a bug in the relay, not in your data: please report it with this message.`, opts);
  }
  if (codes.has('NOT_FOUND')) return permanent('wave_not_found', `Wave has no such record (${o.operation}): ${said}.`, opts);
  if (codes.has('FORBIDDEN')) return permanent('wave_forbidden', `Wave refused ${o.operation} (FORBIDDEN: ${said}): check the scopes granted on the /connect page and the business's plan.`, opts);
  // INTERNAL_SERVER_ERROR and anything unknown: the server's trouble, tried again. A write may have been done.
  return retryable('wave_unavailable', `Wave failed ${o.operation} (${[...codes].filter(Boolean).join(', ') || 'no code'}: ${said}); will try again.`, { ...opts, uncertain: o.mutation });
}

/** A mutation answered `didSucceed: false`: Wave's messages (and the fields they are about), permanent. */
export function inputRefusal(operation: string, inputErrors: readonly WaveInputError[] | null | undefined): RelayError {
  const list = Array.isArray(inputErrors) ? inputErrors.slice(0, 50) : [];
  const messages = texts(
    list.map((e) => {
      const path = Array.isArray(e.path) ? (e.path as unknown[]).filter((p) => typeof p === 'string' || typeof p === 'number').join('.') : '';
      const message = typeof e.message === 'string' ? e.message : '';
      return path && message ? `${message} (${path})` : message;
    }),
  );
  const what = messages.length
    ? messages.join('; ')
    : 'without saying why (Wave answers so for a record of another business: was the business changed on /connect?)';
  return permanent('wave_rejected', `Wave refused ${operation}: ${what}.`, { service: 'wave', status: 200 });
}

/** A non-2xx answer HttpService does not retry itself (4xx other than 401 and 429). */
export function translateWaveHttpError(res: AxiosResponse, o: { operation: string; mutation: boolean }): RelayError {
  const body = typeof res.data === 'object' && res.data !== null ? (res.data as { errors?: unknown }) : {};
  if (Array.isArray(body.errors) && body.errors.length > 0) return translateGraphQLErrors(body.errors as WaveGraphQLError[], { ...o, status: res.status });
  const text = typeof res.data === 'string' ? res.data.trim().slice(0, MAX_MESSAGE_CHARS) : '';
  if (res.status === 401) {
    return retryable('wave_unauthorized', `Wave refused the access token (401${text ? `: ${text}` : ''}): reconnect Wave on the /connect page (or replace WAVE_ACCESS_TOKEN) if this persists.`, {
      status: 401,
      service: 'wave',
      retryAfterMs: 5 * 60_000,
    });
  }
  if (res.status === 403) return permanent('wave_forbidden', `Wave refused ${o.operation} (403${text ? `: ${text}` : ''}): check the scopes granted on the /connect page.`, { status: 403, service: 'wave' });
  if (res.status === 404) return permanent('wave_bug', `Wave answered 404 to ${o.operation}: the API address is wrong (WAVE_API_URL?).`, { status: 404, service: 'wave' });
  return permanent('wave_rejected', `Wave answered ${res.status} to ${o.operation}${text ? `: ${text}` : ''}.`, { status: res.status, service: 'wave' });
}

/** Retry-After in seconds or as an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(raw: unknown, now = Date.now()): number | undefined {
  const text = String(Array.isArray(raw) ? raw[0] : (raw ?? '')).trim();
  if (text === '') return undefined;
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  if (text.length > 64) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
