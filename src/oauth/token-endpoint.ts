// The token endpoint of an OAuth 2 authorization-code provider whose refresh tokens rotate, as far as every
// such provider is the same: one form POST (no answer at all is retryable), what a refusal means (429, 5xx or a
// 200 without tokens: try again; the client refused: try again later, since a refresh token refused that way
// is not spent; a refused code or refresh token: permanent, and the latter loses the connection), the
// "not connected" error jobs wait on, and the provider's RotatingTokens. How the client authenticates, which
// parameters the grant carries and how the answer is read stay with each provider.
import axios from 'axios';
import { permanent, retryable, type RelayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ConnectionSide } from '../store/schema.js';
import { RotatingTokens, type RotateGrant, type RotationStore } from './rotating-tokens.js';

export interface TokenProvider<Side extends ConnectionSide> {
  side: Side;
  /** The provider's name as people read it. */
  label: string;
  /** What the provider's console calls the client: 'app', 'application'. */
  app: string;
  /** What to check when the client is refused (a sentence starting "check …"). */
  checkCredentials: string;
  /** The message of the "not connected" error, unless the rotation says more. */
  notConnected: string;
}

/** What a provider's OAuth client is configured with; the URLs, when given, replace the provider's (its fake, in tests). */
export interface CodeGrantOptions {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  timeoutMs: number;
  scopes?: readonly string[];
  authorizeUrl?: string;
  tokenUrl?: string;
}

/** POSTs `form` to the token endpoint; the answer's status and JSON object ({} when it is not one; its fields are the provider's to check). */
export async function postTokenForm<Answer extends object>(
  p: TokenProvider<ConnectionSide>,
  url: string,
  form: Record<string, string>,
  o: { timeoutMs: number; headers?: Record<string, string> },
): Promise<{ status: number; body: Answer }> {
  try {
    const res = await axios.post<unknown>(url, new URLSearchParams(form).toString(), {
      headers: { ...o.headers, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      timeout: o.timeoutMs,
      validateStatus: () => true,
      maxRedirects: 0,
    });
    return { status: res.status, body: typeof res.data === 'object' && res.data !== null ? (res.data as Answer) : ({} as Answer) };
  } catch (err) {
    throw retryable(`${p.side}_oauth_unreachable`, `${p.label}'s token endpoint (${url}) did not answer; will try again.`, { cause: err, service: p.side });
  }
}

/** What the token endpoint's refusal of a code or a refresh token means; `code` is its `error` (or http_<status>). */
export function tokenRefusal(p: TokenProvider<ConnectionSide>, kind: 'code' | 'refresh', status: number, code: string, description: string | undefined): RelayError {
  const reason = description ? `${code}: ${description}` : code;
  const opts = { status, service: p.side };
  if (status === 429 || status >= 500 || status === 200) {
    return retryable(`${p.side}_oauth_unavailable`, `${p.label}'s token endpoint answered ${status} (${reason}); will try again.`, opts);
  }
  // The client is checked before the grant: a refresh token refused this way is not spent.
  if (code === 'invalid_client' || code === 'unauthorized_client') {
    return retryable(`${p.side}_oauth_invalid_client`, `${p.label} refused the ${p.app}'s credentials (${reason}): ${p.checkCredentials}`, { ...opts, retryAfterMs: 5 * 60_000 });
  }
  if (kind === 'code') {
    return permanent(`${p.side}_code_refused`, `${p.label} refused the authorization code (${reason}): a code works once and only for minutes, and the redirect URI must equal the ${p.app}'s. Connect again.`, opts);
  }
  // invalid_grant in practice: the token was revoked, expired or already replaced.
  return permanent(`${p.side}_refresh_refused`, `${p.label} refused the refresh token (${reason})`, opts);
}

/** The retryable error jobs wait on while the provider is not connected. */
export const notConnectedError = (p: TokenProvider<ConnectionSide>, message = p.notConnected): RelayError =>
  retryable(`${p.side}_not_connected`, message, { service: p.side, retryAfterMs: 2 * 60_000 });

/** The provider's tokens on the shared rotation (single-flight, cross-process lease, stored before use). */
export function providerTokens<Side extends ConnectionSide>(
  p: TokenProvider<Side>,
  rotate: RotateGrant,
  o: { store: RotationStore<Side>; log: Logger; leaseMs: number; pollMs?: number },
): RotatingTokens<Side> {
  return new RotatingTokens({
    side: p.side,
    label: p.label,
    store: o.store,
    rotate,
    isRefusal: (error) => error.code === `${p.side}_refresh_refused`,
    notConnected: (message) => notConnectedError(p, message),
    log: o.log,
    leaseMs: o.leaseMs,
    ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}),
  });
}
