// Which webhook items call for work. Pure: a parsed Kommo webhook in, inbox items out.
import { createHash } from 'node:crypto';
import type { ResolvedStage } from '../config/resolve-mapping.js';
import type { InboxItem } from '../jobs/inbox.js';
import type { KommoLeadEvent, KommoWebhook } from '../kommo/webhook.js';

export const INVOICE_JOB = 'invoice_for_deal';

/** Only a stage change or a deal created in the stage triggers; `update` items (such as the one our own
 *  write-back fires) never do, which keeps the relay out of a loop with itself. */
const TRIGGERING_ACTIONS = new Set(['status', 'add']);

export function dealLane(dealId: number | string): string {
  return `deal:${dealId}`;
}

export function kommoInboxItems(hook: KommoWebhook, invoiceStages: ResolvedStage[]): { items: InboxItem[]; ignored: number } {
  const items: InboxItem[] = [];
  for (const event of hook.leadEvents) {
    if (!TRIGGERING_ACTIONS.has(event.action) || !entersInvoiceStage(event, invoiceStages)) continue;
    items.push({
      source: 'kommo',
      dedupKey: kommoDedupKey(event),
      kind: 'deal_entered_invoice_stage',
      dealId: String(event.leadId),
      payload: { account: hook.account, ...event },
      job: { kind: INVOICE_JOB, lane: dealLane(event.leadId), payload: { dealId: event.leadId } },
    });
  }
  return { items, ignored: hook.leadEvents.length + hook.otherItems - items.length };
}

function entersInvoiceStage(e: KommoLeadEvent, stages: ResolvedStage[]): boolean {
  return stages.some((s) => s.statusId === e.statusId && (e.pipelineId === undefined || s.pipelineId === e.pipelineId));
}

/** The same stage change delivered again (Kommo retries, duplicates) yields the same key; a later move
 *  of the same deal has a later last_modified and so a new key. */
export function kommoDedupKey(e: KommoLeadEvent): string {
  const when = e.lastModified ?? createHash('sha256').update(JSON.stringify(e)).digest('hex').slice(0, 16);
  return `kommo:lead:${e.leadId}:${e.action}:${e.pipelineId ?? ''}:${e.statusId ?? ''}:${when}`;
}
