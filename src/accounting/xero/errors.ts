// Xero's answers that are not what was asked for, as RelayErrors: a refusal with Xero's own words is
// permanent (the same request would be refused again); only the connection and the server's state are
// retried (401 after a refresh, 5xx and timeouts in src/net/http.ts, 429 in client.ts).
import type { AxiosResponse } from 'axios';
import { permanent, retryable, type RelayError } from '../../errors.js';
import type { CallOptions } from '../../net/http.js';
import type { XeroProblemAnswer } from './contract/overrides.js';
import type { Unchecked, XeroErrorBody, XeroValidationError } from './types.js';

const MAX_MESSAGES = 10;
const MAX_MESSAGE_CHARS = 300;

/** The distinct messages of ValidationErrors lists, capped so one answer cannot flood a note. */
export function validationMessages(lists: ReadonlyArray<ReadonlyArray<XeroValidationError> | undefined>): string[] {
  const seen = new Set<string>();
  for (const list of lists) {
    for (const error of Array.isArray(list) ? list : []) {
      const message = typeof error?.Message === 'string' ? error.Message.trim().slice(0, MAX_MESSAGE_CHARS) : '';
      if (message) seen.add(message);
      if (seen.size >= MAX_MESSAGES) return [...seen];
    }
  }
  return [...seen];
}

const describe = (call: Pick<CallOptions, 'method' | 'path'>) => `${call.method} ${call.path}`;

/**
 * A 200 answer to a write sent with summarizeErrors=false: each element reports its own outcome. One element
 * with StatusAttributeString ERROR makes the write refused (the relay sends one element per write).
 */
export function elementErrors(
  call: Pick<CallOptions, 'method' | 'path'>,
  elements: ReadonlyArray<{ StatusAttributeString?: string; ValidationErrors?: XeroValidationError[] } | undefined>,
): RelayError | undefined {
  const failed = elements.filter((e) => e?.StatusAttributeString === 'ERROR');
  if (failed.length === 0) return undefined;
  const messages = validationMessages(failed.map((e) => e?.ValidationErrors));
  return permanent('xero_rejected', `Xero rejected ${describe(call)}: ${messages.join('; ') || 'the element has status ERROR without a message'}.`, {
    service: 'xero',
    status: 200,
  });
}

export function translateXeroError(res: AxiosResponse, call: CallOptions, tenantId: string | undefined): RelayError {
  const opts = { status: res.status, service: 'xero' as const };
  const body = (typeof res.data === 'object' && res.data !== null ? res.data : {}) as XeroErrorBody & XeroProblemAnswer;
  const text = typeof res.data === 'string' ? res.data.trim().slice(0, MAX_MESSAGE_CHARS) : '';
  const detail = body.Detail ?? body.Message ?? body.Title ?? (text || `HTTP ${res.status}`);

  if (res.status === 400) {
    const messages = validationMessages((body.Elements ?? []).map((e) => e?.ValidationErrors));
    const what = messages.length > 0 ? messages.join('; ') : detail;
    const kind = body.Type ? ` (${body.Type})` : '';
    return permanent('xero_rejected', `Xero rejected ${describe(call)}${kind}: ${what}.`, opts);
  }
  if (res.status === 401) {
    return retryable(
      'xero_unauthorized',
      `Xero refused the access token after a refresh (${detail}): the connection may lack a scope the relay needs or was revoked. Reconnect Xero on the /connect page if this persists.`,
      { ...opts, retryAfterMs: 5 * 60_000 },
    );
  }
  if (res.status === 403 && /AuthenticationUnsuccessful/i.test(String(body.Detail ?? text))) {
    return permanent(
      'xero_wrong_tenant',
      `Xero refused organisation ${tenantId ?? '(none)'} (AuthenticationUnsuccessful): the connected login cannot reach it, because the organisation was disconnected from the app or the tokens belong to another login. Reconnect Xero on the /connect page and choose the organisation again.`,
      opts,
    );
  }
  if (res.status === 403) {
    return permanent('xero_forbidden', `Xero refused ${describe(call)} (403: ${detail}): check the scopes granted on the /connect page and the organisation's plan.`, opts);
  }
  if (res.status === 404) return permanent('xero_not_found', `Xero has no such record (${describe(call)}): ${detail}.`, opts);
  return permanent('xero_rejected', `Xero rejected ${describe(call)} (${res.status}): ${detail}.`, opts);
}

/**
 * The contract marks every property optional; the relay cannot use a record without these. A record lacking
 * one is an answer the relay does not understand: retried, and reported with what was missing.
 */
export function checked<R, K extends keyof R>(record: Unchecked<R> | undefined, keys: readonly K[], call: string): R {
  for (const key of keys) {
    if (record?.[key] === undefined || record[key] === null) {
      throw retryable('xero_bad_response', `Xero answered ${call} without ${record ? String(key) : 'the record'}.`, { service: 'xero' });
    }
  }
  return record as R;
}

/** The one element a single-record write or read answers with. */
export function single<E>(elements: E[] | undefined, call: string): E {
  const [first] = elements ?? [];
  if (!first) throw retryable('xero_bad_response', `Xero answered ${call} without the record.`, { service: 'xero' });
  return first;
}
