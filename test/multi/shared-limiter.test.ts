// The shared API budget on PostgreSQL: three handles on one database stand for three relay processes, each
// with its own limiter on the same budget. A real HTTP server counts arrivals, as Kommo and Zoho do.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limiterFactory } from '../../src/net/limits.js';
import { SharedWindowLimiter } from '../../src/net/shared-limiter.js';
import type { Store } from '../../src/store/db.js';
import { backends, type SharedDatabase } from '../support/backends.js';

const postgres = backends.find(([name]) => name === 'postgres');

/** Largest number of times inside any half-open interval [t, t + windowMs). */
function maxInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe.skipIf(!postgres)('shared API budget on PostgreSQL', () => {
  let database: SharedDatabase;
  let stores: Store[];
  let server: Server;
  let url: string;
  const arrivals: number[] = [];

  beforeAll(async () => {
    database = await postgres![1]();
    stores = [await database.open(), await database.open(), await database.open()];
    // Answers after 0-60 ms, like a remote API; records when each request arrived.
    server = createServer((req, res) => {
      arrivals.push(performance.now());
      setTimeout(() => res.end('{}'), Math.floor(Math.random() * 60));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    server?.close();
    await database?.cleanup();
  });

  const limiters = (name: string, limit: number, windowMs: number, extra: { holdMs?: number; maxInFlight?: number } = {}) =>
    stores.map((s, i) => new SharedWindowLimiter(s.db, name, limit, windowMs, { holder: `process-${i}`, holdMs: extra.holdMs ?? 10_000, ...(extra.maxInFlight ? { maxInFlight: extra.maxInFlight } : {}) }));

  async function call(limiter: SharedWindowLimiter): Promise<void> {
    const slot = await limiter.acquireSlot();
    try {
      await (await fetch(url)).text();
    } finally {
      slot.release();
    }
  }

  it('three processes together never put more than the limit into any window of the server', async () => {
    arrivals.length = 0;
    const [a, b, c] = limiters('flood', 6, 300);
    const started = performance.now();
    await Promise.all(Array.from({ length: 36 }, (_, i) => call([a!, b!, c!][i % 3]!)));
    const elapsed = performance.now() - started;

    expect(arrivals).toHaveLength(36);
    expect(maxInAnyWindow(arrivals, 300)).toBeLessThanOrEqual(6);
    // 36 calls at 6 per window: at least 5 full windows after the first 6 (each counted from an answer).
    expect(elapsed).toBeGreaterThanOrEqual(5 * 300);
    // ...and not much more: the budget is spent, not wasted (60 ms answers, database round trips).
    expect(elapsed).toBeLessThan(5 * 300 * 2);
  });

  it('a place is held until the answer: the window counts from the answer, not the start', async () => {
    const [a, b] = limiters('slow', 1, 200);
    const first = await a!.acquireSlot();
    const t0 = performance.now();
    const second = b!.acquireSlot();
    await new Promise((r) => setTimeout(r, 300)); // the first call is still on its way
    first.release();
    await second;
    // 300 ms on its way, then a whole window after its answer.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300 + 190);
    (await second).release();
  });

  it('a process that dies holding a place gives it up after holdMs and one window, not before', async () => {
    const [a, b] = limiters('crash', 1, 200, { holdMs: 400 });
    const t0 = performance.now();
    await a!.acquireSlot(); // never released: its process "died"
    const slot = await b!.acquireSlot();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(400 + 200 - 20);
    slot.release();
  });

  it('a 429 pause in one process holds the others', async () => {
    const [a, b] = limiters('paused', 10, 1000);
    await (await a!.acquireSlot()).release();
    a!.pauseUntil(Date.now() + 400);
    await new Promise((r) => setTimeout(r, 50)); // the pause is written to the shared row
    const t0 = performance.now();
    (await b!.acquireSlot()).release();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it('at most maxInFlight calls on their way over all processes (Xero: 5)', async () => {
    const ls = limiters('inflight', 100, 1000, { maxInFlight: 2 });
    let now = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 9 }, async (_, i) => {
        const slot = await ls[i % 3]!.acquireSlot();
        most = Math.max(most, ++now);
        await new Promise((r) => setTimeout(r, 40));
        now--;
        slot.release();
      }),
    );
    expect(most).toBe(2);
  });

  it('the factory gives a shared limiter on PostgreSQL and an in-process one on SQLite', () => {
    expect(limiterFactory(stores[0]!, { httpTimeoutMs: 1000 })({ name: 'x', limit: 1, windowMs: 1000 })).toBeInstanceOf(SharedWindowLimiter);
    expect(limiterFactory({ db: stores[0]!.db, dialect: 'sqlite' }, { httpTimeoutMs: 1000 })({ name: 'x', limit: 1, windowMs: 1000 }).constructor.name).toBe('SlidingWindowLimiter');
  });
});
