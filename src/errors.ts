// One error vocabulary for the whole relay. Clients translate HTTP into it; the worker acts on it:
// retryable errors are retried with backoff, permanent ones are recorded with a reason a person can act on.
import type { Service } from './net/http.js';

export type ErrorKind = 'retryable' | 'permanent';

export interface RelayErrorOptions {
  cause?: unknown;
  /** The server told us when to come back (429 reset, Retry-After). */
  retryAfterMs?: number;
  /** A write may or may not have happened (timeout or 5xx on a POST): the next attempt must look before it writes. */
  uncertain?: boolean;
  /** HTTP status from the remote side, when there was one. */
  status?: number;
  /** A quota of the remote side is used up (a day limit): the work waits until `retryAfterMs` without
   *  spending one of its attempts, however long the pause lasts. */
  paused?: boolean;
  service?: Service | 'store' | 'config';
}

export class RelayError extends Error {
  readonly retryAfterMs: number | undefined;
  readonly uncertain: boolean;
  readonly status: number | undefined;
  readonly paused: boolean;
  readonly service: RelayErrorOptions['service'];

  constructor(
    readonly kind: ErrorKind,
    /** Stable, machine-readable reason, e.g. `contact_missing_email`, `kommo_rate_limited`. */
    readonly code: string,
    /** What happened and what to do about it, written for the person who reads the job record. */
    message: string,
    opts: RelayErrorOptions = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RelayError';
    this.retryAfterMs = opts.retryAfterMs;
    this.uncertain = opts.uncertain ?? false;
    this.status = opts.status;
    this.paused = opts.paused ?? false;
    this.service = opts.service;
  }

  get retryable(): boolean {
    return this.kind === 'retryable';
  }
}

export const retryable = (code: string, message: string, opts?: RelayErrorOptions) =>
  new RelayError('retryable', code, message, opts);

export const permanent = (code: string, message: string, opts?: RelayErrorOptions) =>
  new RelayError('permanent', code, message, opts);

/**
 * `err` under the code `codes` gives its code (a backend's refusal as the use cases name it, e.g.
 * accounting_rejected), its kind, message and options kept; any other error as it is.
 */
export function recoded(err: unknown, codes: Readonly<Record<string, string>>): unknown {
  if (!(err instanceof RelayError) || !codes[err.code]) return err;
  return new RelayError(err.kind, codes[err.code]!, err.message, {
    cause: err.cause,
    uncertain: err.uncertain,
    ...(err.status !== undefined ? { status: err.status } : {}),
    ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
    ...(err.service ? { service: err.service } : {}),
  });
}

/** Anything thrown that is not ours is a bug or an unforeseen failure: retry it, but say what it was. */
export function toRelayError(err: unknown): RelayError {
  if (err instanceof RelayError) return err;
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return retryable('internal_error', `Unexpected error: ${message}`, { cause: err });
}
