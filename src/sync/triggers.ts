// Which webhook items call for work. Pure: a parsed Kommo webhook in, inbox items out. The reconciler
// builds the same items for deals it finds, with the same keys, so a deal seen both ways is one job.
import { createHash } from 'node:crypto';
import type { ResolvedStage } from '../config/resolve-mapping.js';
import type { InboxItem } from '../jobs/inbox.js';
import type { KommoWebhook } from '../kommo/webhook.js';

export const INVOICE_JOB = 'invoice_for_deal';

/** Only a stage change or a deal created in the stage triggers; `update` items (such as the one our own
 *  write-back fires) never do, which keeps the relay out of a loop with itself. */
const TRIGGERING_ACTIONS = new Set(['status', 'add']);

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

export function dealInStageItem(d: DealInStage, source: InboxItem['source'], payload: unknown): InboxItem {
  return {
    source,
    dedupKey: `kommo:lead:${d.dealId}:in-stage:${d.pipelineId}:${d.statusId}:${d.version}`,
    kind: 'deal_entered_invoice_stage',
    dealId: String(d.dealId),
    payload,
    job: { kind: INVOICE_JOB, lane: dealLane(d.dealId), payload: { dealId: d.dealId } },
  };
}

export function kommoInboxItems(hook: KommoWebhook, invoiceStages: ResolvedStage[]): { items: InboxItem[]; ignored: number } {
  const items: InboxItem[] = [];
  for (const event of hook.leadEvents) {
    if (!TRIGGERING_ACTIONS.has(event.action)) continue;
    const stage = invoiceStages.find((s) => s.statusId === event.statusId && (event.pipelineId === undefined || s.pipelineId === event.pipelineId));
    if (!stage) continue;
    const version = event.lastModified !== undefined ? String(event.lastModified) : createHash('sha256').update(JSON.stringify(event)).digest('hex').slice(0, 16);
    items.push(dealInStageItem({ dealId: event.leadId, pipelineId: stage.pipelineId, statusId: stage.statusId, version }, 'kommo', { account: hook.account, ...event }));
  }
  return { items, ignored: hook.leadEvents.length + hook.otherItems - items.length };
}

