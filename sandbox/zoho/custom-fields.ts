// Custom fields as Zoho accepts them: documented by `customfield_id`, but `api_name` (cf_…) and
// `label` are used widely, so any of the three identifies a field. A field the organization does not
// have yet is created on first use (a deviation that keeps tests short; register fields with
// addCustomField to control api_name, label and the "no duplicates" flag used by upserts).
import { ZohoCode, ZohoError, invalidValue } from './errors.js';
import { addCustomField } from './settings.js';
import type { CustomFieldDef, CustomFieldEntity, CustomFieldValue, ZohoState } from './state.js';

function defsOf(state: ZohoState, organizationId: string, entity: CustomFieldEntity): CustomFieldDef[] {
  return [...state.customFields.values()].filter((d) => d.organizationId === organizationId && d.entity === entity);
}

export function findCustomField(
  state: ZohoState,
  organizationId: string,
  entity: CustomFieldEntity,
  key: string,
): CustomFieldDef | undefined {
  const k = key.toLowerCase();
  return defsOf(state, organizationId, entity).find(
    (d) => d.customfieldId === key || d.apiName.toLowerCase() === k || d.label.toLowerCase() === k,
  );
}

/** Resolves the `custom_fields` array of a request; `current` holds the values to update. */
export function resolveCustomFields(
  state: ZohoState,
  organizationId: string,
  entity: CustomFieldEntity,
  input: unknown,
  current: CustomFieldValue[] = [],
): CustomFieldValue[] {
  if (input === undefined || input === null) return current;
  if (!Array.isArray(input)) throw invalidValue('Invalid value passed for custom_fields');
  const result = current.map((v) => ({ ...v }));
  for (const raw of input) {
    if (typeof raw !== 'object' || raw === null) throw invalidValue('Invalid value passed for custom_fields');
    const f = raw as Record<string, unknown>;
    const def = resolveOne(state, organizationId, entity, f);
    const existing = result.find((v) => v.customfieldId === def.customfieldId);
    const value = f.value ?? '';
    if (existing) existing.value = value;
    else result.push({ customfieldId: def.customfieldId, value });
  }
  return result;
}

function resolveOne(
  state: ZohoState,
  organizationId: string,
  entity: CustomFieldEntity,
  f: Record<string, unknown>,
): CustomFieldDef {
  const defs = defsOf(state, organizationId, entity);
  if (f.customfield_id !== undefined) {
    const id = String(f.customfield_id);
    const def = defs.find((d) => d.customfieldId === id);
    if (!def) throw invalidValue(`Invalid value passed for customfield_id: ${id}`);
    return def;
  }
  if (f.index !== undefined) {
    const def = defs[Number(f.index) - 1];
    if (!def) throw invalidValue(`Invalid value passed for custom field index: ${String(f.index)}`);
    return def;
  }
  const key = typeof f.api_name === 'string' ? f.api_name : typeof f.label === 'string' ? f.label : undefined;
  if (!key) throw invalidValue('Each custom field needs customfield_id, api_name, label or index');
  const found = findCustomField(state, organizationId, entity, key);
  if (found) return found;
  return addCustomField(state, organizationId, {
    entity,
    label: typeof f.label === 'string' ? f.label : key.replace(/^cf_/, ''),
    ...(typeof f.api_name === 'string' ? { apiName: f.api_name } : {}),
  });
}

/** Rejects a value another record already uses for a field set to reject duplicates. */
export function assertUniqueValues(
  state: ZohoState,
  values: CustomFieldValue[],
  others: Iterable<{ id: string; customFields: CustomFieldValue[] }>,
  selfId?: string,
): void {
  const list = [...others];
  for (const v of values) {
    const def = state.customFields.get(v.customfieldId);
    if (!def?.unique || v.value === '' || v.value === null) continue;
    const clash = list.find(
      (o) => o.id !== selfId && o.customFields.some((w) => w.customfieldId === v.customfieldId && String(w.value) === String(v.value)),
    );
    if (clash)
      throw new ZohoError(400, ZohoCode.customFieldValueExists, `The value entered for '${def.label}' already exists.`);
  }
}

export function customFieldsJson(state: ZohoState, values: CustomFieldValue[]) {
  return values.flatMap((v) => {
    const def = state.customFields.get(v.customfieldId);
    if (!def) return [];
    // The properties every answer's custom_fields may carry (contract plus src/accounting/zoho/contract/overrides.ts).
    return [{ customfield_id: def.customfieldId, label: def.label, api_name: def.apiName, value: v.value }];
  });
}

export function customFieldValue(state: ZohoState, values: CustomFieldValue[], apiName: string): unknown {
  return values.find((v) => state.customFields.get(v.customfieldId)?.apiName === apiName)?.value;
}
