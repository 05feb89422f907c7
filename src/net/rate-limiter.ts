// Client-side throttle: at most `limit` calls in any `windowMs` (a sliding window, so the server's own
// fixed window can never see more). Callers queue in order; nobody spins.

export class SlidingWindowLimiter {
  private sent: number[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  private pausedUntil = 0;

  constructor(
    readonly limit: number,
    /** The window as the server counts it, plus a small margin for clock and latency differences. */
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves when a call may be made; returns how long the caller waited (for metrics). */
  acquire(): Promise<number> {
    const start = this.now();
    const turn = this.tail.then(() => this.take()).then(() => this.now() - start);
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  /** The server said "not before t" (429 with a reset time): hold every caller until then. */
  pauseUntil(t: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, t);
  }

  private async take(): Promise<void> {
    for (;;) {
      const now = this.now();
      if (now < this.pausedUntil) {
        await sleep(this.pausedUntil - now);
        continue;
      }
      while (this.sent.length && this.sent[0]! <= now - this.windowMs) this.sent.shift();
      if (this.sent.length < this.limit) {
        this.sent.push(now);
        return;
      }
      await sleep(this.sent[0]! + this.windowMs - now + 1);
    }
  }
}

export function withMargin(windowMs: number): number {
  return Math.ceil(windowMs * 1.02 + 20);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
