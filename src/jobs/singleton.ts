// Periodic tasks that run in one process at a time across every relay on the database (the reconciler, the
// retention sweep). The holder renews its lease every third of it; the others look again when it would run
// out, so a holder that dies is replaced within one lease. The holder runs the task when it is due:
// `intervalMs` after the last run by any holder (recorded on the lease), or `firstDelayMs` after this process
// started when the task never ran, so the interval is kept when the lease changes hands. On SQLite, with one
// process, the same code simply always finds the lease its own.
// Any process may ask for an early run (`soon`): the ask moves the recorded last run back so the task is due
// within a short delay; the holder runs it then (at once when the holder is the asker, else at its next look,
// within a third of a lease). Asks within the delay are one: one run, and one write from each process.
import type { Logger } from '../log.js';
import type { Leases } from '../store/leases.js';

export interface SingletonTask {
  stop(): Promise<void>;
}

export class Singletons {
  private readonly tasks = new Set<SingletonTask>();
  /** The tasks this process runs, by name: how to look again within `ms`. */
  private readonly wakers = new Map<string, (ms: number) => void>();
  /** Per task, until when this process's last ask stands (asks before then are the same ask). */
  private readonly asked = new Map<string, number>();

  constructor(
    readonly leases: Leases,
    /** How long a lease lasts without renewal: how soon another process takes over from a dead one. */
    readonly leaseMs: number,
    private readonly log: Logger,
  ) {}

  /** Runs `run` every `intervalMs` in whichever process holds the lease `name`. */
  every(name: string, intervalMs: number, firstDelayMs: number, run: () => Promise<unknown>): SingletonTask {
    const { leases, leaseMs, log } = this;
    const startedAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    let running: Promise<void> | undefined;
    let held = false;

    const tick = async (): Promise<number> => {
      const wasHeld = held;
      held = await leases.hold(name, leaseMs);
      if (held !== wasHeld) log.info({ task: name, holder: held }, held ? 'this process now runs the task' : 'another process runs the task');
      if (!held) {
        // Look again the moment the holder's lease runs out: a dead holder is replaced within one lease.
        const expiresAt = (await leases.get(name))?.expires_at;
        return expiresAt == null ? leaseMs / 3 : Math.min(leaseMs, Math.max(10, Number(expiresAt) - Date.now() + 5));
      }
      const last = (await leases.get(name))?.last_run_at;
      const due = last == null ? startedAt + firstDelayMs : Number(last) + intervalMs;
      const now = Date.now();
      if (now < due) return Math.min(leaseMs / 3, due - now);
      await leases.markRun(name);
      // The lease is renewed while the task runs, however long it takes.
      const renew = setInterval(() => void leases.hold(name, leaseMs).catch(() => undefined), leaseMs / 3);
      try {
        await run();
      } finally {
        clearInterval(renew);
      }
      return Math.min(leaseMs / 3, intervalMs);
    };
    let fireAt = 0;
    const schedule = (delay: number) => {
      if (stopped) return;
      fireAt = Date.now() + delay;
      timer = setTimeout(() => {
        timer = undefined;
        running = tick()
          .catch((err: unknown) => {
            log.warn({ task: name, err }, 'periodic task failed; it runs again later');
            return leaseMs / 3;
          })
          .then((next) => schedule(Math.max(10, next)));
      }, delay);
      timer.unref();
    };
    schedule(0);
    // An early run asked: look again by then (a tick under way schedules the next look itself).
    this.wakers.set(name, (ms) => {
      if (stopped || !timer || fireAt <= Date.now() + ms) return;
      clearTimeout(timer);
      schedule(ms);
    });

    const task: SingletonTask = {
      stop: async () => {
        stopped = true;
        clearTimeout(timer);
        this.wakers.delete(name);
        await running;
        if (held) await leases.release(name).catch(() => undefined);
        this.tasks.delete(task);
      },
    };
    this.tasks.add(task);
    return task;
  }

  /**
   * Asks for a run of the task `name` (run every `intervalMs` by its lease holder) within `delayMs`. Asks
   * from this process within `delayMs` of the last are the same ask (no database write); asks from any
   * process within the window make one run. A task no process has started yet (no lease row) is not
   * hastened.
   */
  async soon(name: string, intervalMs: number, delayMs: number): Promise<void> {
    const now = Date.now();
    if ((this.asked.get(name) ?? 0) > now) return;
    this.asked.set(name, now + delayMs);
    await this.leases.requestRun(name, now + delayMs, intervalMs);
    this.wakers.get(name)?.(delayMs);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.tasks].map((t) => t.stop()));
  }
}
