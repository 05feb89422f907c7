// Leases and the periodic tasks run under them, on both stores: two or three handles on one database stand
// for as many relay processes.
import { afterEach, describe, expect, it } from 'vitest';
import { Singletons } from '../../src/jobs/singleton.js';
import { createLogger } from '../../src/log.js';
import { Leases } from '../../src/store/leases.js';
import { backends, type SharedDatabase } from '../support/backends.js';

const log = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(backends)('leases on %s', (_name, makeDatabase) => {
  let database: SharedDatabase | undefined;
  afterEach(async () => {
    await database?.cleanup();
    database = undefined;
  });

  it('one holder at a time; renewing keeps it; an expired or released lease goes to another process', async () => {
    database = await makeDatabase();
    const [one, two] = [await database.open(), await database.open()];
    let now = 1_000_000;
    const a = new Leases(one.db, 'a', () => now);
    const b = new Leases(two.db, 'b', () => now);

    expect(await a.hold('reconciler', 1000)).toBe(true);
    expect(await b.hold('reconciler', 1000)).toBe(false);
    now += 900;
    expect(await a.hold('reconciler', 1000)).toBe(true); // renewed until 1,001,900
    now += 900;
    expect(await b.hold('reconciler', 1000)).toBe(false);
    expect((await b.get('reconciler'))?.acquired_at).toBe(1_000_000);
    now += 1001; // a died: it stopped renewing
    expect(await b.hold('reconciler', 1000)).toBe(true);
    expect(await a.hold('reconciler', 1000)).toBe(false);
    expect(await b.get('reconciler')).toMatchObject({ holder: 'b', acquired_at: now });
    await b.release('reconciler');
    expect(await a.hold('reconciler', 1000)).toBe(true);
    // Another lease is independent.
    expect(await b.hold('retention', 1000)).toBe(true);
  });

  it('three processes run a periodic task once per interval between them, and a survivor keeps the interval', async () => {
    database = await makeDatabase();
    const stores = [await database.open(), await database.open(), await database.open()];
    const runs: Array<{ by: number; at: number }> = [];
    const singletons = stores.map((s, i) => new Singletons(new Leases(s.db, `p${i}`), 300, log));
    const tasks = singletons.map((s, i) =>
      s.every('sweep', 250, 250, async () => {
        runs.push({ by: i, at: Date.now() });
      }),
    );
    await sleep(1900);
    const holder = runs[0]!.by;
    // Between 250 ms and 1,900 ms: up to 7 runs (timers and database round trips add a little), all by one process.
    expect(runs.length).toBeGreaterThanOrEqual(4);
    expect(runs.length).toBeLessThanOrEqual(7);
    expect(new Set(runs.map((r) => r.by))).toEqual(new Set([holder]));
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.at - runs[i - 1]!.at).toBeGreaterThanOrEqual(245);

    // The holder stops: a survivor takes over, at the interval (not at once, not after a fresh delay).
    const before = runs.length;
    await tasks[holder]!.stop();
    const stoppedAt = Date.now();
    await sleep(900);
    const after = runs.slice(before);
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(after.every((r) => r.by !== holder)).toBe(true);
    expect(after[0]!.at - runs[before - 1]!.at).toBeGreaterThanOrEqual(245);
    expect(after[0]!.at - stoppedAt).toBeLessThan(300 + 250);
    for (const t of tasks) await t.stop();
  });

  it('an early run asked by any process: the holder runs it within the delay (and a third of a lease); a flood of asks is one run per delay', async () => {
    database = await makeDatabase();
    const stores = [await database.open(), await database.open(), await database.open()];
    const runs: Array<{ by: number; at: number }> = [];
    const singletons = stores.map((s, i) => new Singletons(new Leases(s.db, `p${i}`), 600, log));
    // Due only after a minute: every run below is an asked one.
    const tasks = singletons.map((s, i) => s.every('sweep', 60_000, 60_000, async () => void runs.push({ by: i, at: Date.now() })));
    await sleep(150);
    const holder = Number((await singletons[0]!.leases.get('sweep'))!.holder.slice(1));
    const asker = (holder + 1) % 3;
    const asked = Date.now();
    await singletons[asker]!.soon('sweep', 60_000, 300);
    await sleep(150);
    expect(runs).toEqual([]); // not before the delay: later asks join this run
    await sleep(150 + 200 + 150);
    expect(runs.map((r) => r.by)).toEqual([holder]);
    expect(runs[0]!.at - asked).toBeGreaterThanOrEqual(295);

    // Every process asks every 10 ms for 1.5 s: runs at least 300 ms apart, all by the holder.
    const flood = Date.now();
    while (Date.now() - flood < 1500) {
      await Promise.all(singletons.map((s) => s.soon('sweep', 60_000, 300)));
      await sleep(10);
    }
    await sleep(300 + 200 + 150);
    const during = runs.slice(1);
    expect(during.length).toBeGreaterThanOrEqual(2);
    expect(during.length).toBeLessThanOrEqual(Math.ceil(1500 / 300) + 1);
    expect(new Set(runs.map((r) => r.by))).toEqual(new Set([holder]));
    // Apart by the delay, less what an ask made just before a run but written just after it takes (a round trip).
    for (let i = 1; i < runs.length; i++) expect(runs[i]!.at - runs[i - 1]!.at).toBeGreaterThanOrEqual(250);
    for (const t of tasks) await t.stop();
  });
});
