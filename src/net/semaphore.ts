// At most `limit` holders at a time; the others wait in arrival order. For a server that counts requests in
// flight (a vendor's cap on concurrent calls per organisation), beside the SlidingWindowLimiter that counts them per minute.

export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`a semaphore needs a positive whole limit, got ${limit}`);
  }

  /** Resolves with a release function once a slot is free; call it exactly once (later calls do nothing). */
  async acquire(): Promise<() => void> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The slot passes straight to the next waiter, so a newcomer can never overtake the queue.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }

  /** Runs `work` holding a slot. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }
}
