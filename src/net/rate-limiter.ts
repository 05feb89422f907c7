// Client-side throttle: at most `limit` calls in any `windowMs`. A call holds its place in the window from
// the moment it is let through until its answer arrives, and the window is counted from the answer: the server
// counts arrivals, and a request cannot arrive after its answer, so however late a loaded machine or a slow
// network puts a request on the wire, the server never sees more than `limit` in its own window (fixed or
// sliding). Callers queue in order; nobody spins.

import type { RelayError } from '../errors.js';

interface Slot {
  /** When the answer arrived; Infinity while the call is on its way. */
  doneAt: number;
}

export interface LimiterSlot {
  /** How long the caller waited for its place (for metrics). */
  waitedMs: number;
  /** The call's answer (or failure) arrived: the place now counts from this moment. */
  release(): void;
}

/** What the HTTP layer needs of a limit: a place per call, held until its answer, and a shared pause after 429. */
export interface CallLimiter {
  acquireSlot(): Promise<LimiterSlot>;
  pauseUntil(t: number): void;
  /** With a day quota (net/day-budget.ts): the server said it is used up; every caller pauses, and this is the error to throw. */
  dayExhausted?(): Promise<RelayError>;
}

export class SlidingWindowLimiter implements CallLimiter {
  private slots: Slot[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  private pausedUntil = 0;
  private released: (() => void) | undefined;

  constructor(
    readonly limit: number,
    /** The window as the server counts it, plus a small margin for clock differences. */
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves when a call may be made; the caller releases the slot when the call's answer is in. */
  acquireSlot(): Promise<LimiterSlot> {
    const start = this.now();
    const turn = this.tail.then(() => this.take()).then((slot) => ({ waitedMs: this.now() - start, release: () => this.release(slot) }));
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  /** For a call that is over as soon as it is let through: returns how long the caller waited. */
  async acquire(): Promise<number> {
    const slot = await this.acquireSlot();
    slot.release();
    return slot.waitedMs;
  }

  /** The server said "not before t" (429 with a reset time): hold every caller until then. */
  pauseUntil(t: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, t);
  }

  private release(slot: Slot): void {
    if (slot.doneAt !== Infinity) return;
    slot.doneAt = this.now();
    const wake = this.released;
    this.released = undefined;
    wake?.();
  }

  private async take(): Promise<Slot> {
    for (;;) {
      const now = this.now();
      if (now < this.pausedUntil) {
        await sleep(this.pausedUntil - now);
        continue;
      }
      this.slots = this.slots.filter((s) => s.doneAt > now - this.windowMs);
      if (this.slots.length < this.limit) {
        const slot: Slot = { doneAt: Infinity };
        this.slots.push(slot);
        return slot;
      }
      const oldest = Math.min(...this.slots.map((s) => s.doneAt));
      if (oldest === Infinity) {
        // Every place is held by a call on its way: wait for one of them to answer.
        await new Promise<void>((resolve) => (this.released = resolve));
        continue;
      }
      await sleep(oldest + this.windowMs - now + 1);
    }
  }
}

export function withMargin(windowMs: number): number {
  return Math.ceil(windowMs * 1.02 + 20);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
