// Xero's per-organisation limits on the client side, beside the 60-a-minute SlidingWindowLimiter that
// HttpService applies: at most 5 requests on the wire, the day quota read from every answer, and what a 429 means.
import axios, { type AxiosAdapter, type AxiosInstance } from 'axios';
import type { Semaphore } from '../../net/semaphore.js';
import { retryAfterMs, type XeroDayQuota } from './quota.js';

/**
 * The axios instance HttpService sends through, with HttpService's usual settings (text answers parsed by
 * it, no redirects, every status returned); each request holds an in-flight slot while it is on the wire
 * (not while it waits to be retried), and every answer's quota headers are read, whatever its status.
 */
export function xeroTransport(o: { timeoutMs: number; inFlight: Semaphore; quota: XeroDayQuota; tenantId: () => string | undefined }): AxiosInstance {
  const instance = axios.create({
    timeout: o.timeoutMs,
    validateStatus: () => true,
    transformResponse: [(data) => data],
    responseType: 'text',
    maxRedirects: 0,
  });
  const send: AxiosAdapter = axios.getAdapter(axios.defaults.adapter);
  instance.defaults.adapter = (config) =>
    o.inFlight.run(async () => {
      const res = await send(config);
      o.quota.observe(o.tenantId(), res.headers as Record<string, unknown>, res.status);
      return res;
    });
  return instance;
}

/**
 * A 429. The minute limit (or too many in flight): the wait Xero names is returned, and src/net/http.ts holds
 * every caller until then and resends (a 429 was not processed, so resending is safe). The day quota: thrown
 * at once as "paused until", since holding a call for hours would hold its job and its slot.
 */
export function onRateLimited(headers: Record<string, unknown>, quota: XeroDayQuota, o: { maxHeldMs: number; dayPauseMs: number }): number | undefined {
  const waitMs = retryAfterMs(headers['retry-after']);
  const problem = String(headers['x-rate-limit-problem'] ?? '').toLowerCase();
  const daily = problem === 'day' || quota.snapshot().dayRemaining === 0 || (waitMs ?? 0) > o.maxHeldMs;
  if (daily) {
    quota.exhausted(waitMs ?? o.dayPauseMs);
    throw quota.pausedError()!;
  }
  return waitMs === undefined ? undefined : Math.max(waitMs, 100);
}
