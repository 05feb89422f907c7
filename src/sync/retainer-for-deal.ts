// Use case "retainer": a deal in a retainer stage has an active recurring invoice in the accounting system; in a stop
// stage, a stopped one. The job converges on the deal's current stage, so duplicate, late or reordered
// events cannot create a second profile: the intent is recorded first, and after an uncertain create the
// profile is looked up by its per-deal name.
import type { ResolvedMapping, ResolvedRetainer } from '../config/resolve-mapping.js';
import { permanent, RelayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { DealRecurringProfiles } from '../store/recurring-records.js';
import type { BillingParty } from './billing-party.js';
import { buildInvoiceDraft } from './invoice-draft.js';
import type { AccountingPort, CrmPort, Deal, DealStamp, RecurringDraft } from './ports.js';
import { dateFromValue, recurrenceFromValue } from './recurrence.js';

export interface RetainerDeps {
  crm: CrmPort;
  accounting: AccountingPort;
  profiles: DealRecurringProfiles;
  party: BillingParty;
  mapping: ResolvedMapping;
  today?: () => string;
}

export type RetainerOutcome =
  | { outcome: 'started'; recurrenceId: string; remarks: string[] }
  | { outcome: 'resumed' | 'stopped' | 'already_active' | 'already_stopped'; recurrenceId: string }
  | { outcome: 'skipped'; reason: string };

export class RetainerForDeal {
  constructor(private readonly deps: RetainerDeps) {}

  async run(dealId: number, ctx: { log: Logger }): Promise<RetainerOutcome> {
    const retainer = this.deps.mapping.retainer;
    if (!retainer) return { outcome: 'skipped', reason: 'no retainer section in the mapping' };
    const deal = await this.deps.crm.getDeal(dealId);
    if (!deal) throw permanent('deal_not_found', `Recurring invoice not changed: deal ${dealId} no longer exists in Kommo.`);
    const here = (stages: ResolvedRetainer['startStages']) => stages.some((s) => s.statusId === deal.statusId && s.pipelineId === deal.pipelineId);
    const profile = await this.deps.profiles.get(String(dealId));

    if (here(retainer.startStages)) {
      if (profile?.state === 'active') return { outcome: 'already_active', recurrenceId: profile.recurrence_id! };
      if (profile?.state === 'stopped') {
        // A backend that cannot pause makes a new profile from the deal as it is now (the draft is built only
        // if it asks); its ID replaces the old one, here and on the deal. The key names the profile resumed,
        // so a retry after a lost answer resends the same write.
        const resumed = profile;
        const draft = async () => {
          const party = await this.deps.party.of(deal);
          return this.draft(deal, retainer, resumed.customer_id ?? (await this.deps.party.customer(party, deal.id, ctx)).id, this.deps.accounting.retainerStamp(deal.id), party, []);
        };
        const { id } = await this.deps.accounting.setRecurringActive(profile.recurrence_id!, true, { idempotencyKey: `recurring:${dealId}:resume:${profile.recurrence_id}`, draft });
        if (id !== profile.recurrence_id) {
          await this.deps.profiles.update(String(dealId), { recurrence_id: id });
          await this.deps.crm.writeDealFields(dealId, [{ fieldId: retainer.recurringIdField.id, value: id }]);
        }
        await this.deps.profiles.update(String(dealId), { state: 'active' });
        ctx.log.info({ recurrence_id: id }, 'recurring invoice resumed');
        return { outcome: 'resumed', recurrenceId: id };
      }
      return this.create(deal, retainer, ctx);
    }
    if (here(retainer.stopStages)) return this.stop(dealId, ctx);
    return { outcome: 'skipped', reason: `deal is in neither a retainer start nor stop stage (status ${deal.statusId})` };
  }

  /** Stops the deal's recurring invoice if it runs (a stop stage, or the deal lost: lost-deal.ts). */
  async stop(dealId: number, ctx: { log: Logger }): Promise<RetainerOutcome> {
    const profile = await this.deps.profiles.get(String(dealId));
    if (profile?.state !== 'active') return profile ? { outcome: 'already_stopped', recurrenceId: profile.recurrence_id ?? '' } : { outcome: 'skipped', reason: 'the deal has no recurring invoice to stop' };
    await this.deps.accounting.setRecurringActive(profile.recurrence_id!, false, { idempotencyKey: `recurring:${dealId}:stop:${profile.recurrence_id}` });
    await this.deps.profiles.update(String(dealId), { state: 'stopped' });
    ctx.log.info({ recurrence_id: profile.recurrence_id }, 'recurring invoice stopped');
    return { outcome: 'stopped', recurrenceId: profile.recurrence_id! };
  }

  private async create(deal: Deal, retainer: ResolvedRetainer, ctx: { log: Logger }): Promise<RetainerOutcome> {
    const { accounting, profiles, crm } = this.deps;
    const key = String(deal.id);
    const stamp = accounting.retainerStamp(deal.id);
    const name = stamp.key;
    let profile = (await profiles.get(key)) ?? (await profiles.start(key, name));

    const party = await this.deps.party.of(deal);
    const customerId = profile.customer_id ?? (await this.deps.party.customer(party, deal.id, ctx)).id;
    if (!profile.customer_id) profile = await profiles.update(key, { customer_id: customerId });

    let recurrenceId = profile.recurrence_id ?? undefined;
    const remarks: string[] = [];
    if (!recurrenceId) {
      // A previous attempt may have created it before its answer was lost: the name is unique per deal.
      const existing = await accounting.findRecurringByName(name);
      if (existing) recurrenceId = existing.id;
    }
    if (!recurrenceId) {
      const draft = await this.draft(deal, retainer, customerId, stamp, party, remarks);
      try {
        recurrenceId = (await accounting.createRecurring(draft, { idempotencyKey: `recurring:${key}` })).id;
      } catch (err) {
        if (err instanceof RelayError && !err.uncertain && err.code === 'accounting_rejected') throw retainerError(err, accounting.names.system);
        throw err;
      }
    }
    await profiles.update(key, { recurrence_id: recurrenceId });
    await crm.writeDealFields(deal.id, [{ fieldId: retainer.recurringIdField.id, value: recurrenceId }]);
    await profiles.update(key, { state: 'active' });
    ctx.log.info({ recurrence_id: recurrenceId, name }, 'recurring invoice started');
    return { outcome: 'started', recurrenceId, remarks };
  }

  private async draft(deal: Deal, retainer: ResolvedRetainer, customerId: string, stamp: DealStamp, party: Awaited<ReturnType<BillingParty['of']>>, remarks: string[]): Promise<RecurringDraft> {
    const field = (f: ResolvedRetainer['startDateField']) => (f ? deal.fields.get(f.id)?.find((v) => v.trim()) : undefined);
    let recurrence;
    let start: string | undefined;
    let end: string | undefined;
    try {
      recurrence = recurrenceFromValue(field(retainer.frequencyField)) ?? { frequency: retainer.frequency, repeatEvery: retainer.every };
      start = dateFromValue(field(retainer.startDateField));
      end = dateFromValue(field(retainer.endDateField));
    } catch (e) {
      throw permanent('retainer_field_unreadable', `Recurring invoice not created: ${(e as Error).message}. Correct the deal's field, then move it into the retainer stage again.`);
    }
    const today = this.deps.today?.() ?? new Date().toISOString().slice(0, 10);
    if (!start || start < today) {
      if (start) remarks.push(`The start date ${start} is in the past; the recurring invoice starts today (${today}).`);
      start = today;
    }
    if (end && end <= start) throw permanent('retainer_dates', `Recurring invoice not created: the end date ${end} is not after the start date ${start}.`);
    const products = this.deps.mapping.lines.sources.includes('products') && deal.products.length ? await this.deps.crm.dealProducts(deal) : [];
    const built = buildInvoiceDraft({ deal, products, customerId, stamp, generation: 1, billing: party.billing }, this.deps.mapping, party.settings);
    remarks.push(...built.remarks);
    const d = built.draft;
    return {
      customerId: d.customerId,
      stamp: d.stamp,
      lines: d.lines,
      currencyId: d.currencyId,
      exchangeRate: d.exchangeRate,
      paymentTerms: d.paymentTerms,
      paymentTermsLabel: d.paymentTermsLabel,
      discount: d.discount,
      taxExemptionId: d.taxExemptionId,
      ...(d.payOnline ? { payOnline: d.payOnline } : {}),
      name: stamp.key,
      frequency: recurrence.frequency, repeatEvery: recurrence.repeatEvery, startDate: start, ...(end ? { endDate: end } : {}) };
  }
}

function retainerError(err: RelayError, system: string): RelayError {
  const message = err.message.startsWith(`${system} rejected`) ? `Recurring invoice not created: ${err.message}` : err.message;
  return permanent(err.code, message, { cause: err.cause, ...(err.service ? { service: err.service } : {}) });
}
