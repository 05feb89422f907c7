// A day quota of an API (calls per day per organization, by the customer's plan): at most `limit` calls per
// calendar day in a time zone, counted in the store so that every relay on the database spends one count
// and a restart does not forget the day's calls (store/day-budgets.ts). When the count is spent, or the
// server says the quota is used up, calls are refused at once with a retryable error marked `paused`, with a
// retry-after at the next day boundary: the jobs wait (their attempts are not spent, jobs/queue.ts) instead
// of failing, and no call is sent to learn that the quota is still used up. Without a limit the calls are
// only counted (shown on /readyz, `relay status` and /metrics), and the server's answer still pauses.
import { retryable, type RelayError } from '../errors.js';
import type { DayBudgets } from '../store/day-budgets.js';

export interface DayLimitSpec {
  /** The budget's name: one per day quota the vendor sets. */
  name: string;
  /** Calls allowed per day; undefined: only counted. */
  limit: number | undefined;
  /** The IANA time zone whose midnight starts the quota's day. */
  timeZone: string;
  /** The setting that holds the limit, named in the paused message. */
  setting: string;
  /** The service's name in messages (the backend's label), and its label on the error. */
  label: string;
  service: NonNullable<RelayError['service']>;
  /** The server said the quota is used up: try one call again after this long (at most at the next day). */
  probeMs?: number;
}

/** A server that said "used up" is asked again after an hour at most: its day may start before ours. */
const DEFAULT_PROBE_MS = 3600_000;

export class DayBudget {
  /** Known here without asking the store: no call before then. */
  private pausedUntil = 0;
  private pauseReason: 'count' | 'server' = 'count';
  /** The limit this process counts against, written to the row at start (so status shows it before any call). */
  private readonly ready: Promise<void>;

  constructor(
    private readonly store: DayBudgets,
    readonly spec: DayLimitSpec,
    private readonly now: () => number = Date.now,
  ) {
    const { day, resetsAt } = dayOf(now(), spec.timeZone); // an unknown time zone fails here, at start-up
    this.ready = store.setLimit(spec.name, day, resetsAt, spec.limit ?? null).catch(() => undefined);
  }

  /** Counts one call, or throws the paused error while the day's quota is spent. */
  async take(): Promise<void> {
    await this.ready;
    const now = this.now();
    if (now < this.pausedUntil) throw this.pausedError(this.pausedUntil, this.pauseReason);
    const { day, resetsAt } = dayOf(now, this.spec.timeZone);
    let taken;
    try {
      taken = await this.store.take(this.spec.name, day, resetsAt, this.spec.limit ?? null, now);
    } catch (err) {
      throw retryable('rate_budget_unavailable', `The day budget '${this.spec.name}' could not be read from the database: ${(err as Error).message}`, { cause: err });
    }
    if (taken.taken) return;
    const { row } = taken;
    const server = row.pausedUntil > now;
    this.pausedUntil = server ? row.pausedUntil : row.day === day ? row.resetsAt : now + 1000;
    this.pauseReason = server ? 'server' : 'count';
    throw this.pausedError(this.pausedUntil, this.pauseReason);
  }

  /** The server answered that the day's quota is used up: every process pauses; returns the error to throw. */
  async exhausted(): Promise<RelayError> {
    const now = this.now();
    const { day, resetsAt } = dayOf(now, this.spec.timeZone);
    const until = Math.min(resetsAt, now + (this.spec.probeMs ?? DEFAULT_PROBE_MS));
    this.pausedUntil = Math.max(this.pausedUntil, until);
    this.pauseReason = 'server';
    await this.store.pause(this.spec.name, day, resetsAt, this.spec.limit ?? null, until).catch(() => undefined);
    return this.pausedError(this.pausedUntil, 'server');
  }

  private pausedError(until: number, reason: 'count' | 'server'): RelayError {
    const { label, setting, limit, timeZone, service } = this.spec;
    const why =
      reason === 'server'
        ? `${label} answered that its daily API limit for this organization is used up`
        : `the ${limit?.toLocaleString('en-US')} ${label} calls a day allowed by ${setting} are used up for today (${timeZone})`;
    return retryable(`${service}_day_limit`, `Work is paused, not failed: ${why}. It continues at ${new Date(until).toISOString()}.`, {
      service,
      status: 429,
      retryAfterMs: Math.max(0, until - this.now()),
      paused: true,
    });
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** Year, month, day, hour, minute, second of the wall clock in `timeZone` at `t`. */
function wallClock(t: number, timeZone: string): number[] {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formats.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(t).map((p) => [p.type, p.value]));
  return ['year', 'month', 'day', 'hour', 'minute', 'second'].map((k) => Number(parts[k]));
}

/** The day `t` falls in, in `timeZone` (YYYY-MM-DD), and when it ends (the next local midnight, epoch ms). */
export function dayOf(t: number, timeZone: string): { day: string; resetsAt: number } {
  const [y, m, d, h, min, s] = wallClock(t, timeZone) as [number, number, number, number, number, number];
  const day = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  // The offset of the zone now (local wall clock read as UTC, minus the instant), then the instant whose wall
  // clock reads tomorrow 00:00; once more with the offset there, in case a DST change lies between.
  const offset = Date.UTC(y, m - 1, d, h, min, s) - Math.floor(t / 1000) * 1000;
  const midnight = Date.UTC(y, m - 1, d + 1);
  let resetsAt = midnight - offset;
  const [y2, m2, d2, h2, min2, s2] = wallClock(resetsAt, timeZone) as [number, number, number, number, number, number];
  resetsAt += midnight - Date.UTC(y2, m2 - 1, d2, h2, min2, s2);
  return { day, resetsAt: resetsAt > t ? resetsAt : t + 1000 };
}

/** Whether `timeZone` is an IANA time zone this Node knows (settings check it at start-up). */
export function checkTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}
