import type { Organization } from '../store/connections.js';

/** What a connect step tells the administrator: shown as a page, never containing a secret. */
export type ConnectOutcome =
  | { ok: true; message: string; problem?: string; chooseFrom?: Organization[] }
  | { ok: false; status: 400 | 409 | 502; message: string };

/** OAuth states live this long: time to log in at the provider and consent. */
export const STATE_TTL_MS = 10 * 60_000;
