// Which webhook items call for work. Pure: a parsed Kommo webhook in, inbox items out. The reconciler
// builds the same items for deals it finds, with the same keys, so a deal seen both ways is one job.
import { createHash } from 'node:crypto';
import type { ResolvedMapping, ResolvedStage } from '../config/resolve-mapping.js';
import type { InboxItem } from '../jobs/inbox.js';
import type { KommoWebhook } from './kommo-parse.js';

export const INVOICE_JOB = 'invoice_for_deal';
export const RETAINER_JOB = 'retainer_for_deal';
export const LOST_JOB = 'deal_lost';
export const REVIEW_JOB = 'invoice_review';

/** Only a stage change or a deal created in the stage triggers; `update` items (such as the one our own
 *  write-back fires) never do, which keeps the relay out of a loop with itself. */
const TRIGGERING_ACTIONS = new Set(['status', 'add']);

/** Entering one of `stages` calls for a `jobKind` job. */
export interface StageTrigger {
  stages: ResolvedStage[];
  jobKind: string;
  eventKind: string;
  /** `changes`: not entering the stage but any change of a deal sitting in it (Kommo's `update` items), keyed by
   *  version. Such triggers are the webhook's only: the reconciler looks for deals that need work, not for changes. */
  on?: 'changes';
}

export function stageTriggers(mapping: Pick<ResolvedMapping, 'invoiceStages' | 'retainer' | 'onLost' | 'review'>): StageTrigger[] {
  const triggers: StageTrigger[] = [];
  // First: with invoice.onLost, "Closed - lost" is the lost-deal job's even where it is also a retainer stop stage
  // (that job stops the recurring invoice too).
  if (mapping.onLost) triggers.push({ stages: mapping.onLost.stages, jobKind: LOST_JOB, eventKind: 'deal_lost' });
  triggers.push({ stages: mapping.invoiceStages, jobKind: INVOICE_JOB, eventKind: 'deal_entered_invoice_stage' });
  if (mapping.retainer) {
    triggers.push({ stages: [...mapping.retainer.startStages, ...mapping.retainer.stopStages], jobKind: RETAINER_JOB, eventKind: 'deal_entered_retainer_stage' });
  }
  if (mapping.review) {
    // Entering an approval stage sends the deal's draft; a change of a deal whose draft waits may update it.
    if (mapping.review.approvalStages.length) triggers.push({ stages: mapping.review.approvalStages, jobKind: REVIEW_JOB, eventKind: 'deal_entered_approval_stage' });
    triggers.push({ stages: [...mapping.invoiceStages, ...mapping.review.approvalStages], jobKind: REVIEW_JOB, eventKind: 'deal_changed_in_review', on: 'changes' });
  }
  return triggers;
}

export function dealLane(dealId: number | string): string {
  return `deal:${dealId}`;
}

export interface DealInStage {
  dealId: number;
  pipelineId: number;
  statusId: number;
  /** Kommo's last_modified / updated_at of the deal (unix seconds): one key per version of the deal. */
  version: string;
}

export function dealInStageItem(d: DealInStage, trigger: Pick<StageTrigger, 'jobKind' | 'eventKind' | 'on'>, source: InboxItem['source'], payload: unknown): InboxItem {
  return {
    source,
    dedupKey: trigger.on === 'changes' ? `kommo:lead:${d.dealId}:changed:${d.version}` : `kommo:lead:${d.dealId}:in-stage:${d.pipelineId}:${d.statusId}:${d.version}`,
    kind: trigger.eventKind,
    dealId: String(d.dealId),
    payload,
    job: { kind: trigger.jobKind, lane: dealLane(d.dealId), payload: { dealId: d.dealId } },
  };
}

export function triggerFor(triggers: StageTrigger[], statusId: number | undefined, pipelineId: number | undefined, on?: 'changes'): { trigger: StageTrigger; stage: ResolvedStage } | undefined {
  for (const trigger of triggers) {
    if (trigger.on !== on) continue;
    const stage = trigger.stages.find((s) => s.statusId === statusId && (pipelineId === undefined || s.pipelineId === pipelineId));
    if (stage) return { trigger, stage };
  }
  return undefined;
}

export function kommoInboxItems(hook: KommoWebhook, triggers: StageTrigger[]): { items: InboxItem[]; ignored: number } {
  const items: InboxItem[] = [];
  for (const event of hook.leadEvents) {
    const on = TRIGGERING_ACTIONS.has(event.action) ? undefined : event.action === 'update' ? 'changes' : null;
    if (on === null) continue;
    const found = triggerFor(triggers, event.statusId, event.pipelineId, on);
    if (!found) continue;
    const version = event.lastModified !== undefined ? String(event.lastModified) : createHash('sha256').update(JSON.stringify(event)).digest('hex').slice(0, 16);
    items.push(dealInStageItem({ dealId: event.leadId, pipelineId: found.stage.pipelineId, statusId: found.stage.statusId, version }, found.trigger, 'kommo', { account: hook.account, ...event }));
  }
  return { items, ignored: hook.leadEvents.length + hook.otherItems - items.length };
}
