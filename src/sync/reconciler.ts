// The reconciler is one more producer of jobs. Every interval it asks both systems what webhooks may have
// missed — deals sitting in an invoicing stage without an invoice, and invoices paid since the backend's
// change cursor whose payments the deal has not seen — and feeds them through the same inbox, with the same
// dedup keys, so a deal found both ways is still one job. An idle sweep costs two API calls.
import type { ResolvedMapping } from '../config/resolve-mapping.js';
import { acceptEvents, type InboxItem } from '../jobs/inbox.js';
import type { JobQueue } from '../jobs/queue.js';
import type { Singletons, SingletonTask } from '../jobs/singleton.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import type { DealInvoices } from '../store/invoice-records.js';
import type { KeyValue } from '../store/kv.js';
import type { InvoiceLinks } from '../store/payment-records.js';
import type { DealRecurringProfiles } from '../store/recurring-records.js';
import type { InvoiceOwners } from './invoice-owner.js';
import { invoiceChangedItem } from './payment-triggers.js';
import type { AccountingPort, ChangeCursor, CrmPort } from './ports.js';
import { dealInStageItem, dealLane, INVOICE_JOB, RETAINER_JOB, REVIEW_JOB, stageTriggers, triggerFor } from '../intake/triggers.js';

export interface ReconcilerDeps {
  db: Db;
  queue: JobQueue;
  crm: CrmPort;
  accounting: AccountingPort;
  invoices: DealInvoices;
  links: InvoiceLinks;
  profiles: DealRecurringProfiles;
  owners: InvoiceOwners;
  kv: KeyValue;
  mapping: Pick<ResolvedMapping, 'invoiceStages' | 'retainer' | 'review'>;
  log: Logger;
  /** How far back the first sweep looks for paid invoices. */
  firstLookbackMs?: number;
  maxInvoicePages?: number;
}

export interface SweepResult {
  at: string;
  dealsChecked: number;
  invoiceJobs: number;
  invoicesChecked: number;
  paymentJobs: number;
  errors: string[];
}

/** Where the backend's change cursor is kept (the key's end predates the opaque cursor, when it was a time). */
const cursorKey = (backendId: string) => `reconcile:${backendId}:last_modified`;
export const LAST_SWEEP = 'reconcile:last_sweep';
/** The reconciler's lease (src/jobs/singleton.ts): one process of all on the database sweeps. */
export const RECONCILER_TASK = 'reconciler';
/**
 * An early sweep asked for (a webhook about invoices the relay cannot tell by ID) runs this long after the
 * first ask: every ask within it is the same sweep, so a flood of them costs one sweep per window.
 */
export const EARLY_SWEEP_DELAY_MS = 2000;

export class Reconciler {
  private timer: NodeJS.Timeout | undefined;
  private task: SingletonTask | undefined;
  private running: Promise<SweepResult> | undefined;

  constructor(private readonly deps: ReconcilerDeps) {}

  /** With `singletons` (the relay), one process of all those on the database sweeps, once per interval. */
  start(intervalMs: number, singletons?: Singletons): void {
    if (intervalMs <= 0 || this.timer || this.task) return;
    if (singletons) {
      this.task = singletons.every(RECONCILER_TASK, intervalMs, intervalMs, () => this.sweep());
      return;
    }
    this.timer = setInterval(() => void this.sweep(), intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.task?.stop();
    this.task = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One pass over both systems; never throws (a failing side is reported and tried next time). */
  sweep(): Promise<SweepResult> {
    this.running ??= this.doSweep().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async doSweep(): Promise<SweepResult> {
    const result: SweepResult = { at: new Date().toISOString(), dealsChecked: 0, invoiceJobs: 0, invoicesChecked: 0, paymentJobs: 0, errors: [] };
    try {
      await this.missedDeals(result);
    } catch (err) {
      result.errors.push(`Kommo: ${(err as Error).message}`);
    }
    try {
      await this.missedPayments(result);
    } catch (err) {
      result.errors.push(`${this.deps.accounting.names.system}: ${(err as Error).message}`);
    }
    await this.deps.kv.set(LAST_SWEEP, result).catch(() => undefined);
    const level = result.errors.length ? 'warn' : result.invoiceJobs || result.paymentJobs ? 'info' : 'debug';
    this.deps.log[level](result, 'reconciler sweep');
    return result;
  }

  /** One Kommo query for every stage that triggers something; each deal found is checked against our records. */
  private async missedDeals(result: SweepResult): Promise<void> {
    const { crm, queue, mapping } = this.deps;
    // Lost deals are not looked for: every deal ever lost sits in that stage (the webhook tells the relay).
    const triggers = stageTriggers({ invoiceStages: mapping.invoiceStages, ...(mapping.retainer ? { retainer: mapping.retainer } : {}), ...(mapping.review ? { review: mapping.review } : {}) }).filter((t) => t.on === undefined);
    const stages = triggers.flatMap((t) => t.stages);
    if (stages.length === 0) return;
    const deals = await crm.dealsInStages(stages);
    result.dealsChecked = deals.length;
    const items: InboxItem[] = [];
    for (const d of deals) {
      const found = triggerFor(triggers, d.statusId, d.pipelineId);
      if (!found || !(await this.needsWork(found.trigger.jobKind, d))) continue;
      if (await queue.hasActive(found.trigger.jobKind, String(d.id))) continue;
      items.push(dealInStageItem({ dealId: d.id, pipelineId: d.pipelineId, statusId: d.statusId, version: String(d.updatedAt) }, found.trigger, 'reconciler', { found: `deal in ${found.stage.label}`, ...d }));
    }
    result.invoiceJobs = (await acceptEvents(this.deps.db, queue, items)).jobIds.length;
  }

  private async needsWork(jobKind: string, d: { id: number; pipelineId: number; statusId: number }): Promise<boolean> {
    if (jobKind === INVOICE_JOB) return (await this.deps.invoices.get(String(d.id)))?.state !== 'linked';
    // A deal in an approval stage whose draft still waits (the stage webhook went missing).
    if (jobKind === REVIEW_JOB) return ['waiting', 'approved'].includes((await this.deps.invoices.get(String(d.id)))?.review ?? '');
    if (jobKind !== RETAINER_JOB || !this.deps.mapping.retainer) return false;
    const profile = await this.deps.profiles.get(String(d.id));
    const inStart = this.deps.mapping.retainer.startStages.some((s) => s.statusId === d.statusId && s.pipelineId === d.pipelineId);
    return inStart ? profile?.state !== 'active' : profile?.state === 'active';
  }

  private async missedPayments(result: SweepResult): Promise<void> {
    const { accounting, kv, links, owners } = this.deps;
    const key = cursorKey(accounting.names.id);
    const since = await kv.get<ChangeCursor>(key);
    let next: ChangeCursor | undefined;
    const items: InboxItem[] = [];
    for (let page = 1; page <= (this.deps.maxInvoicePages ?? 20); page++) {
      const { invoices: changed, hasMore, next: after } = await accounting.changedInvoices(since ?? undefined, page, this.deps.firstLookbackMs ?? 24 * 3600_000);
      next = after;
      result.invoicesChecked += changed.length;
      const paid = changed.filter((inv) => inv.status === 'paid' || inv.status === 'partially_paid');
      if (this.deps.mapping.review) {
        // A draft in review that changed in the accounting system (approved, sent, edited by a person): its deal's review job.
        for (const r of await this.deps.invoices.inReview(changed.filter((inv) => inv.status !== 'paid' && inv.status !== 'partially_paid').map((inv) => inv.invoiceId))) {
          const inv = changed.find((c) => c.invoiceId === r.invoice_id)!;
          if (inv.version === r.draft_version && inv.status === 'draft') continue; // the relay's own write
          items.push(reviewItem(accounting.names.id, r.deal_id, r.invoice_id!, inv.version));
        }
      }
      const found = await owners.ofAll(paid, { clues: 'fresh' });
      for (const inv of paid) {
        const owner = found.get(inv.invoiceId);
        if (!owner) continue; // not an invoice of ours
        if ((await links.get(inv.invoiceId))?.version === inv.version) continue; // this version was handled
        items.push(invoiceChangedItem(accounting.names.id, { invoiceId: inv.invoiceId, dealId: owner.dealId, version: inv.version, source: 'reconciler', found: 'paid invoice not yet on the deal' }));
      }
      if (!hasMore) break;
    }
    result.paymentJobs = (await acceptEvents(this.deps.db, this.deps.queue, items)).jobIds.length;
    if (next !== undefined && next !== since) await kv.set(key, next);
  }
}

/** The review job for a deal whose draft changed in the accounting system, once per version of the invoice. */
export function reviewItem(backendId: string, dealId: string, invoiceId: string, version: string): InboxItem {
  return {
    source: 'reconciler',
    dedupKey: `${backendId}:invoice:${invoiceId}:review:${version}`,
    kind: 'invoice_in_review_changed',
    dealId,
    payload: { invoiceId, version, found: 'invoice draft in review changed' },
    job: { kind: REVIEW_JOB, lane: dealLane(dealId), payload: { dealId: Number(dealId) } },
  };
}
