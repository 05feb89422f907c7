// How long before an access token expires it is refreshed: the smaller of 5 minutes and a fifth of its
// lifetime. A fixed 5-minute margin would make a token that lives 5 minutes or less (providers' live 30 minutes to a day, test
// tokens live seconds) "about to expire" from the moment it is minted: a refresh on every call.
const MAX_MARGIN_MS = 5 * 60_000;

export function refreshMarginMs(lifetimeMs: number): number {
  return Math.min(MAX_MARGIN_MS, Math.max(0, lifetimeMs) / 5);
}

/** An access token held in memory, with the moment from which it is refreshed rather than used. */
export interface HeldToken {
  value: string;
  expiresAt: number;
  refreshAt: number;
}

/**
 * `lifetimeMs` is what the token answer said (expires_in). A token adopted from the store (minted by another
 * process or before a restart) has an unknown lifetime: what is left of it is a lower bound, so the margin
 * it gets is never larger than the one it was minted with.
 */
export function holdToken(value: string, expiresAt: number, lifetimeMs = expiresAt - Date.now()): HeldToken {
  return { value, expiresAt, refreshAt: expiresAt - refreshMarginMs(lifetimeMs) };
}

/** A token that has less than this left is not adopted from the store: one request could outlive it. */
export const MIN_ADOPTABLE_MS = 2_000;

export const isFresh = (token: HeldToken | undefined, now = Date.now()): token is HeldToken => !!token && now < token.refreshAt;
