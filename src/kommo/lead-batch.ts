// Lead reads coalesced: every job re-reads its deal from Kommo, and when many jobs for different deals
// run at once their reads would each cost one of Kommo's 7 requests a second. The reads asked for while
// another is on its way wait for it and then go together as one `GET /leads?filter[id][]=…` (at most 250
// leads, Kommo's page limit). A read asked for alone goes out at once, as `GET /leads/{id}`. Nothing is
// cached: every read is answered by a request sent after it was asked for.
import type { KommoLead } from './types.js';

export interface LeadSource {
  getLead(id: number): Promise<KommoLead | undefined>;
  /** The leads among `ids` that exist (Kommo answers 204 when none do). */
  getLeads(ids: number[]): Promise<KommoLead[]>;
}

type Waiter = { resolve: (lead: KommoLead | undefined) => void; reject: (err: unknown) => void };

export const MAX_LEADS_PER_READ = 250;

export class LeadBatch {
  private waiting = new Map<number, Waiter[]>();
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly source: LeadSource,
    /** Requests at once; reads asked for meanwhile gather into the next one. */
    private readonly maxInFlight = 2,
  ) {}

  get(id: number): Promise<KommoLead | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(id);
      if (waiters) waiters.push({ resolve, reject });
      else this.waiting.set(id, [{ resolve, reject }]);
      // Reads asked for in the same turn of the event loop go together.
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.dispatch();
        });
      }
    });
  }

  private dispatch(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.size > 0) {
      const batch = new Map<number, Waiter[]>();
      for (const [id, waiters] of this.waiting) {
        if (batch.size === MAX_LEADS_PER_READ) break;
        batch.set(id, waiters);
      }
      for (const id of batch.keys()) this.waiting.delete(id);
      this.inFlight++;
      void this.read(batch).finally(() => {
        this.inFlight--;
        this.dispatch();
      });
    }
  }

  private async read(batch: Map<number, Waiter[]>): Promise<void> {
    const ids = [...batch.keys()];
    try {
      const leads = ids.length === 1 ? [await this.source.getLead(ids[0]!)] : await this.source.getLeads(ids);
      const byId = new Map(leads.flatMap((l) => (l ? [[l.id, l] as const] : [])));
      for (const [id, waiters] of batch) for (const w of waiters) w.resolve(byId.get(id));
    } catch (err) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
    }
  }
}
