// The one way the relay talks HTTP to Kommo and the accounting backends: client-side rate limit, timeout, retries with
// backoff and jitter where a retry is safe, and translation of every failure into a RelayError.
import axios, { type AxiosInstance, type AxiosResponse, isAxiosError } from 'axios';
import type { AccountingId } from '../accounting/registry.js';
import { backoffDelay } from '../jobs/backoff.js';
import { RelayError, retryable } from '../errors.js';
import type { Logger } from '../log.js';
import type { CallLimiter } from './rate-limiter.js';
import { parseBody } from './json-body.js';

export { parseBody };

/** Who is called: Kommo or an accounting backend (its registry ID). A metrics and error label. */
export type Service = 'kommo' | AccountingId;
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface CallOptions {
  method: Method;
  path: string;
  params?: Record<string, unknown>;
  data?: unknown;
  headers?: Record<string, string>;
  /** Safe to send twice. Defaults to true for everything but POST. */
  idempotent?: boolean;
}

export interface CallObserver {
  onCall?(service: Service, status: number | 'network_error', ms: number): void;
  onRateLimitWait?(service: Service, ms: number): void;
}

export interface HttpServiceOptions {
  service: Service;
  /** The service's name in messages ("Kommo did not answer …"): each client gives its own. */
  label: string;
  baseUrl: () => string;
  timeoutMs: number;
  limiter: CallLimiter;
  /** Adds credentials; called before every send so a refreshed token is used. */
  authorize(headers: Record<string, string>): Promise<void>;
  /** A 401 arrived for a request sent with `sentHeaders`: refresh if possible. True means "send once more". */
  onUnauthorized?(sentHeaders: Record<string, string>): Promise<boolean>;
  /** Service-specific translation of a non-2xx answer that is not retried here. */
  translate(res: AxiosResponse, call: CallOptions): RelayError;
  /** Milliseconds to wait after a 429, from the service's headers. */
  rateLimitResetMs?(res: AxiosResponse): number | undefined;
  /** Whether a 429 (its body parsed) says the day's quota is used up: then the call is not retried, every
   *  caller pauses until the quota is back (the limiter's day budget), and the caller gets a paused error. */
  dayLimitReached?(res: AxiosResponse): boolean;
  log: Logger;
  observer?: CallObserver;
  maxRetries?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  axios?: AxiosInstance;
}

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

export class HttpService {
  private readonly http: AxiosInstance;

  constructor(private readonly opts: HttpServiceOptions) {
    this.http =
      opts.axios ??
      axios.create({
        timeout: opts.timeoutMs,
        validateStatus: () => true,
        // Some IDs exceed 2^53: parse JSON ourselves so 19-digit numbers can never be rounded.
        transformResponse: [(data) => data],
        responseType: 'text',
        maxRedirects: 0,
      });
  }

  async call<T = unknown>(call: CallOptions): Promise<{ status: number; data: T; headers: AxiosResponse['headers'] }> {
    const idempotent = call.idempotent ?? call.method !== 'POST';
    const maxRetries = this.opts.maxRetries ?? 4;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      const slot = await this.opts.limiter.acquireSlot();
      if (slot.waitedMs > 5) this.opts.observer?.onRateLimitWait?.(this.opts.service, slot.waitedMs);
      const headers: Record<string, string> = { Accept: 'application/json', ...call.headers };
      try {
        await this.opts.authorize(headers);
      } catch (err) {
        slot.release(); // nothing was sent
        throw err;
      }
      const started = Date.now();
      let res: AxiosResponse<string>;
      try {
        res = await this.http.request<string>({
          method: call.method,
          baseURL: this.opts.baseUrl(),
          url: call.path,
          params: call.params,
          data: call.data,
          headers,
        });
      } catch (err) {
        slot.release();
        this.opts.observer?.onCall?.(this.opts.service, 'network_error', Date.now() - started);
        const code = isAxiosError(err) ? (err.code ?? 'ERR_NETWORK') : 'ERR_UNKNOWN';
        const notSent = NOT_SENT.has(code) || NOT_SENT.has((err as { cause?: { code?: string } }).cause?.code ?? '');
        const canRetry = idempotent || notSent;
        if (canRetry && attempt <= maxRetries) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw retryable(
          `${this.opts.service}_unreachable`,
          `${this.opts.label} did not answer ${call.method} ${call.path} (${code === 'ECONNABORTED' ? 'timed out' : code}); will try again.`,
          { cause: err, uncertain: !notSent && !idempotent, service: this.opts.service },
        );
      }
      slot.release();
      this.opts.observer?.onCall?.(this.opts.service, res.status, Date.now() - started);
      if (res.status >= 200 && res.status < 300) {
        return { status: res.status, data: parseBody<T>(res.data), headers: res.headers };
      }
      if (res.status === 401 && !refreshed && this.opts.onUnauthorized) {
        refreshed = true;
        if (await this.opts.onUnauthorized(headers)) {
          attempt--;
          continue;
        }
      }
      if (res.status === 429) {
        if (this.opts.limiter.dayExhausted && this.opts.dayLimitReached?.({ ...res, data: parseBody(res.data) } as AxiosResponse)) {
          this.opts.log.warn({ remote: this.opts.service, path: call.path }, 'the server says its daily API limit is used up: work pauses');
          throw await this.opts.limiter.dayExhausted();
        }
        const resetMs = this.opts.rateLimitResetMs?.(res) ?? this.backoff(attempt);
        this.opts.limiter.pauseUntil(Date.now() + resetMs);
        this.opts.log.warn({ remote: this.opts.service, path: call.path, resetMs }, 'rate limited by the server');
        if (attempt <= maxRetries) continue; // the limiter holds us until the reset
        throw retryable(`${this.opts.service}_rate_limited`, `${this.opts.label} kept answering 429 (rate limit); will try again later.`, {
          retryAfterMs: resetMs,
          status: 429,
          service: this.opts.service,
        });
      }
      if (res.status >= 500) {
        if (idempotent && attempt <= maxRetries) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw retryable(
          `${this.opts.service}_unavailable`,
          `${this.opts.label} answered ${res.status} to ${call.method} ${call.path}; will try again.`,
          { uncertain: !idempotent, status: res.status, service: this.opts.service },
        );
      }
      throw this.opts.translate({ ...res, data: parseBody(res.data) } as AxiosResponse, call);
    }
  }

  private backoff(attempt: number): number {
    return backoffDelay(attempt, this.opts.retryBaseMs ?? 300, this.opts.retryMaxMs ?? 8000);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
