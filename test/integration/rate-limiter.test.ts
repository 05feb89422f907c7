// SlidingWindowLimiter: at most `limit` acquisitions in any window, first come first served, and a server
// pause (429 reset) holds everyone. Mostly on a fake clock (exact times), plus real timers and the limiter
// as the HTTP clients use it.
import fc from 'fast-check';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KommoClient } from '../../src/kommo/client.js';
import { createLogger } from '../../src/log.js';
import { SlidingWindowLimiter, withMargin } from '../../src/net/rate-limiter.js';

/** Largest number of timestamps inside any half-open interval [t, t + windowMs). */
function maxInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('SlidingWindowLimiter on a fake clock', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Starts acquisitions; records [index, time granted, reported wait] in the order they are granted. */
  function start(limiter: SlidingWindowLimiter, count: number, granted: Array<{ i: number; at: number; waited: number }>, from = 0) {
    const t0 = 1_700_000_000_000;
    return Array.from({ length: count }, (_, k) =>
      limiter.acquire().then((waited) => {
        granted.push({ i: from + k, at: Date.now() - t0, waited });
      }),
    );
  }

  it('never more than `limit` in any window; waiters are granted in order, exactly when the window allows', async () => {
    const limiter = new SlidingWindowLimiter(3, 1000, () => Date.now());
    const granted: Array<{ i: number; at: number; waited: number }> = [];
    const all = start(limiter, 10, granted);

    await vi.advanceTimersByTimeAsync(5000);
    await Promise.all(all);

    expect(granted.map((g) => g.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(granted.map((g) => g.at)).toEqual([0, 0, 0, 1001, 1001, 1001, 2002, 2002, 2002, 3003]);
    expect(granted.map((g) => g.waited)).toEqual([0, 0, 0, 1001, 1001, 1001, 2002, 2002, 2002, 3003]);
    expect(maxInAnyWindow(granted.map((g) => g.at), 1000)).toBe(3);
  });

  it('the window slides: a slot frees exactly windowMs after each earlier acquisition', async () => {
    const limiter = new SlidingWindowLimiter(2, 1000, () => Date.now());
    const granted: Array<{ i: number; at: number; waited: number }> = [];
    const first = start(limiter, 1, granted, 0);
    await vi.advanceTimersByTimeAsync(600);
    const later = start(limiter, 3, granted, 1);

    await vi.advanceTimersByTimeAsync(3000);
    await Promise.all([...first, ...later]);

    // 0 and 600 fit; 0 leaves the window at 1000 (+1 ms), 600 at 1600 (+1 ms); then 1001 leaves at 2001.
    expect(granted.map((g) => [g.i, g.at])).toEqual([
      [0, 0],
      [1, 600],
      [2, 1001],
      [3, 1601],
    ]);
    expect(granted.map((g) => g.waited)).toEqual([0, 0, 401, 1001]);
    expect(maxInAnyWindow(granted.map((g) => g.at), 1000)).toBe(2);
  });

  it('nobody is granted early: with nothing advanced, only `limit` callers get through', async () => {
    const limiter = new SlidingWindowLimiter(2, 1000, () => Date.now());
    const granted: Array<{ i: number; at: number; waited: number }> = [];
    start(limiter, 5, granted);

    await vi.advanceTimersByTimeAsync(1000); // the first slot frees at 1001
    expect(granted.map((g) => g.i)).toEqual([0, 1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(granted.map((g) => g.i)).toEqual([0, 1, 2, 3]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(granted.map((g) => g.i)).toEqual([0, 1, 2, 3, 4]);
  });

  it('pauseUntil holds every caller until the given time, even with free slots', async () => {
    const limiter = new SlidingWindowLimiter(10, 1000, () => Date.now());
    limiter.pauseUntil(Date.now() + 500);
    const granted: Array<{ i: number; at: number; waited: number }> = [];
    const all = start(limiter, 3, granted);

    await vi.advanceTimersByTimeAsync(499);
    expect(granted).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all(all);
    expect(granted).toEqual([
      { i: 0, at: 500, waited: 500 },
      { i: 1, at: 500, waited: 500 },
      { i: 2, at: 500, waited: 500 },
    ]);
  });

  it('a pause set while a caller waits for the window holds it longer; an earlier pause never shortens one', async () => {
    const limiter = new SlidingWindowLimiter(1, 100, () => Date.now());
    const granted: Array<{ i: number; at: number; waited: number }> = [];
    const all = start(limiter, 2, granted); // #1 would get through at 101
    await vi.advanceTimersByTimeAsync(50);
    limiter.pauseUntil(Date.now() + 300); // until 350
    limiter.pauseUntil(Date.now() + 10); // ignored: the later time wins

    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(all);

    expect(granted.map((g) => [g.i, g.at])).toEqual([
      [0, 0],
      [1, 350],
    ]);
  });

  it('pausing keeps FIFO order: callers that arrive during the pause go after those already waiting', async () => {
    const limiter = new SlidingWindowLimiter(1, 100, () => Date.now());
    const granted: Array<{ i: number; at: number; waited: number }> = [];
    const a = start(limiter, 3, granted, 0);
    limiter.pauseUntil(Date.now() + 250);
    await vi.advanceTimersByTimeAsync(100);
    const b = start(limiter, 2, granted, 3);

    await vi.advanceTimersByTimeAsync(2000);
    await Promise.all([...a, ...b]);

    expect(granted.map((g) => g.i)).toEqual([0, 1, 2, 3, 4]);
    expect(granted.map((g) => g.at)).toEqual([250, 351, 452, 553, 654]);
  });

  it('property: for any arrivals, grants respect the limit per window, FIFO order, and never precede arrival', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 10, max: 200 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 25 }),
        async (limit, windowMs, gaps) => {
          const limiter = new SlidingWindowLimiter(limit, windowMs, () => Date.now());
          const t0 = Date.now();
          const arrivals: number[] = [];
          const grants: Array<{ i: number; at: number }> = [];
          const pending: Array<Promise<void>> = [];
          for (let i = 0; i < gaps.length; i++) {
            await vi.advanceTimersByTimeAsync(gaps[i]!);
            arrivals.push(Date.now() - t0);
            pending.push(limiter.acquire().then(() => void grants.push({ i, at: Date.now() - t0 })));
          }
          await vi.advanceTimersByTimeAsync(gaps.length * (windowMs + 2));
          await Promise.all(pending);
          expect(grants.map((g) => g.i)).toEqual(gaps.map((_, i) => i));
          for (const g of grants) expect(g.at).toBeGreaterThanOrEqual(arrivals[g.i]!);
          expect(maxInAnyWindow(grants.map((g) => g.at), windowMs)).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('SlidingWindowLimiter on real timers', () => {
  it('23 callers, 5 per 100 ms: never more than 5 in any 100 ms, in order', async () => {
    const limiter = new SlidingWindowLimiter(5, 100);
    const granted: Array<{ i: number; at: number }> = [];
    const started = Date.now();
    await Promise.all(Array.from({ length: 23 }, (_, i) => limiter.acquire().then(() => void granted.push({ i, at: Date.now() }))));

    expect(granted.map((g) => g.i)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    for (let k = 5; k < granted.length; k++) expect(granted[k]!.at - granted[k - 5]!.at).toBeGreaterThanOrEqual(100);
    expect(maxInAnyWindow(granted.map((g) => g.at), 100)).toBeLessThanOrEqual(5);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400); // 23 callers need 5 windows: 0, 100+, 200+, 300+, 400+
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('withMargin widens the server window by 2 % + 20 ms', () => {
    expect(withMargin(1000)).toBe(1040);
    expect(withMargin(60_000)).toBe(61_220);
  });
});

describe('the limiter inside an HTTP client', () => {
  afterEach(() => {
    nock.cleanAll();
  });

  it('KommoClient at 4 requests/s: the server never sees more than 4 requests within its 1000 ms window', async () => {
    // One request through a client of its own first: the very first request of a process is the slowest to
    // go out (code paths compiled on first use), and on a loaded machine that alone can exceed the 40 ms
    // margin and make the burst's first request arrive late. The limiter under test starts empty.
    nock('https://acme.kommo.com').get('/api/v4/account').reply(200, { id: 1, subdomain: 'acme' });
    await new KommoClient({ baseUrl: 'https://acme.kommo.com', accessToken: async () => 'token-abcdef', ratePerSecond: 4, timeoutMs: 1000, log: createLogger({ level: 'silent' }) }).getAccount();

    const seen: number[] = [];
    nock('https://acme.kommo.com')
      .get('/api/v4/account')
      .times(6)
      .reply(() => {
        seen.push(Date.now());
        return [200, { id: 1, subdomain: 'acme' }];
      });
    const waits: number[] = [];
    const client = new KommoClient({
      baseUrl: 'https://acme.kommo.com',
      accessToken: async () => 'token-abcdef',
      ratePerSecond: 4,
      timeoutMs: 1000,
      log: createLogger({ level: 'silent' }),
      observer: { onRateLimitWait: (service, ms) => waits.push(ms) },
    });

    await Promise.all(Array.from({ length: 6 }, () => client.getAccount()));

    expect(seen).toHaveLength(6);
    // The client waits 1040 ms (withMargin) between acquisitions; the server's own window is 1000 ms, and the
    // 40 ms margin absorbs differences in transit time.
    expect(seen[4]! - seen[0]!).toBeGreaterThanOrEqual(1000);
    expect(seen[5]! - seen[1]!).toBeGreaterThanOrEqual(1000);
    expect(maxInAnyWindow(seen, 1000)).toBe(4);
    expect(seen[3]! - seen[0]!).toBeLessThan(500); // the first four went out at once
    // The two callers beyond the limit were held about one window and reported it. (The first callers may
    // report a few ms too: their turn also waits for the event loop, busy sending the first requests.)
    expect(waits.filter((w) => w >= 1000)).toHaveLength(2);
    expect(waits.filter((w) => w >= 200 && w < 1000)).toHaveLength(0);
  });
});

describe('SlidingWindowLimiter with calls that take time (real timers)', () => {
  it('counts a place from the answer, so arrivals at the server stay within the limit however late a request goes out', async () => {
    // Each call is let through, then waits a random 0-120 ms before it "arrives" (a loaded machine, a slow
    // network), and answers 5 ms after arriving. The server counts arrivals in fixed windows.
    const windowMs = 200;
    const limiter = new SlidingWindowLimiter(3, windowMs);
    const arrivals: number[] = [];
    const call = async () => {
      const slot = await limiter.acquireSlot();
      await new Promise((r) => setTimeout(r, Math.random() * 120));
      arrivals.push(Date.now());
      await new Promise((r) => setTimeout(r, 5));
      slot.release();
    };
    await Promise.all(Array.from({ length: 15 }, call));
    expect(arrivals).toHaveLength(15);
    expect(maxInAnyWindow(arrivals, windowMs)).toBeLessThanOrEqual(3);
  });

  it('holds the next caller while every place is on its way, and lets it through once an answer is in plus a window', async () => {
    const limiter = new SlidingWindowLimiter(2, 100);
    const t0 = Date.now();
    const a = await limiter.acquireSlot();
    const b = await limiter.acquireSlot();
    let thirdAt = 0;
    const third = limiter.acquireSlot().then((s) => {
      thirdAt = Date.now() - t0;
      s.release();
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(thirdAt).toBe(0); // both places still on their way after 150 ms: more than a window
    a.release();
    await third;
    expect(thirdAt).toBeGreaterThanOrEqual(245); // released at ~150 ms, then a whole window
    b.release();
  });
});
