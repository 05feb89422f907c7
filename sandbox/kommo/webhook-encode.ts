// Kommo's webhook body: nested form keys (`leads[status][0][id]`), every key and value percent-encoded as
// UTF-8 with encodeURIComponent (so a space is %20 and "+" is %2B), dates in custom fields as a bare scalar.
import { isDateType, isEnumType } from './fields.js';
import type { ChangeBatch, KommoStore, LeadChange } from './state.js';
import type { Lead } from './types.js';

export type Pair = [key: string, value: string];

/** Webhook actions and the subscription setting that enables each. */
export const ACTION_SETTING = { add: 'add_lead', update: 'update_lead', status: 'status_lead', delete: 'delete_lead' } as const;
export type Action = keyof typeof ACTION_SETTING;

export function encodeForm(pairs: Pair[]): string {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

function leadPairs(store: KommoStore, p: string, lead: Lead, old?: LeadChange): Pair[] {
  const out: Pair[] = [
    [`${p}[id]`, String(lead.id)],
    [`${p}[name]`, lead.name],
    [`${p}[status_id]`, String(lead.statusId)],
  ];
  if (old) out.push([`${p}[old_status_id]`, String(old.oldStatusId)]);
  out.push(
    [`${p}[price]`, String(lead.price)],
    [`${p}[responsible_user_id]`, String(lead.responsibleUserId)],
    [`${p}[last_modified]`, String(lead.updatedAt)],
    [`${p}[modified_user_id]`, String(lead.updatedBy)],
    [`${p}[created_user_id]`, String(lead.createdBy)],
    [`${p}[date_create]`, String(lead.createdAt)],
    [`${p}[pipeline_id]`, String(lead.pipelineId)],
  );
  if (old) out.push([`${p}[old_pipeline_id]`, String(old.oldPipelineId)]);
  out.push([`${p}[account_id]`, String(store.account.id)]);
  lead.tagIds.forEach((id, i) => {
    out.push([`${p}[tags][${i}][id]`, String(id)], [`${p}[tags][${i}][name]`, store.tags.get(id)?.name ?? '']);
  });
  let i = 0;
  for (const f of lead.customFields) {
    const def = store.leadFields.get(f.fieldId);
    if (!def) continue;
    const c = `${p}[custom_fields][${i++}]`;
    out.push([`${c}[id]`, String(def.id)], [`${c}[name]`, def.name]);
    f.values.forEach((v, j) => {
      if (isDateType(def.type)) out.push([`${c}[values][${j}]`, String(v.value)]);
      else {
        out.push([`${c}[values][${j}][value]`, typeof v.value === 'boolean' ? (v.value ? '1' : '0') : String(v.value)]);
        if (isEnumType(def.type) && v.enumId !== undefined) out.push([`${c}[values][${j}][enum]`, String(v.enumId)]);
      }
    });
  }
  return out;
}

/** Pairs for one action of a change batch (all leads of the batch under `leads[action][n]`). */
export function actionPairs(store: KommoStore, batch: ChangeBatch, action: Action): Pair[] {
  const out: Pair[] = [];
  if (action === 'delete') {
    (batch.delete ?? []).forEach((l, n) => {
      const p = `leads[delete][${n}]`;
      out.push([`${p}[id]`, String(l.id)], [`${p}[status_id]`, String(l.statusId)], [`${p}[pipeline_id]`, String(l.pipelineId)]);
    });
  } else if (action === 'add') {
    (batch.add ?? []).forEach((l, n) => out.push(...leadPairs(store, `leads[add][${n}]`, l)));
  } else {
    (batch[action] ?? []).forEach((c, n) => out.push(...leadPairs(store, `leads[${action}][${n}]`, c.lead, action === 'status' ? c : undefined)));
  }
  return out;
}

export function accountPairs(store: KommoStore): Pair[] {
  return [
    ['account[subdomain]', store.account.subdomain],
    ['account[id]', String(store.account.id)],
  ];
}

export function actionsIn(batch: ChangeBatch): Action[] {
  // Order matters for readers of the log: a stage move announces `status` before `update`.
  return (['add', 'status', 'update', 'delete'] as const).filter((a) => (batch[a]?.length ?? 0) > 0);
}
