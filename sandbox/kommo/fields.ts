// Custom field values: checking what a client sends (PATCH or seeding) against the field definition, and
// rendering stored values the way Kommo returns them. Kept strict so a relay bug surfaces as a 400 here
// instead of as silently wrong data.
import type { CustomFieldDef, FieldError, FieldType, FieldValues, StoredValue } from './types.js';

const DATE_TYPES: ReadonlySet<FieldType> = new Set(['date', 'date_time', 'birthday']);
const ENUM_TYPES: ReadonlySet<FieldType> = new Set(['select', 'radiobutton', 'multiselect', 'multitext']);
const MULTI_TYPES: ReadonlySet<FieldType> = new Set(['multiselect', 'multitext']);

export const isDateType = (t: FieldType) => DATE_TYPES.has(t);
export const isEnumType = (t: FieldType) => ENUM_TYPES.has(t);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const err = (code: string, path: string, detail: string): FieldError => ({ code, path, detail });

/** Unix seconds from a number, a numeric string or an RFC 3339 / ISO date (Kommo's SDK sends RFC 3339). */
function toUnix(v: unknown): number | null {
  if (typeof v === 'number') return Number.isInteger(v) ? v : null;
  if (typeof v !== 'string' || v.trim() === '') return null;
  if (/^-?\d+$/.test(v)) return Number(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v)) return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return null;
}

/**
 * Checks `values` (the client's array) for field `def`; `path` is the Kommo-style dotted path of the field entry
 * (e.g. `custom_fields_values.0`). Returns the stored values, `null` to clear the field, or errors.
 */
export function normalizeValues(
  def: CustomFieldDef,
  values: unknown,
  path: string,
): { values: StoredValue[] | null; errors: FieldError[] } {
  // Kommo clears a field with `values: null`.
  if (values === null) return { values: null, errors: [] };
  if (!Array.isArray(values)) return { values: null, errors: [err('InvalidType', `${path}.values`, 'This value should be of type array.')] };
  if (values.length === 0) return { values: null, errors: [err('NotBlank', `${path}.values`, 'This value should not be blank.')] };
  if (values.length > 1 && !MULTI_TYPES.has(def.type)) {
    return { values: null, errors: [err('Count', `${path}.values`, `Field ${def.id} of type ${def.type} takes exactly one value.`)] };
  }
  const out: StoredValue[] = [];
  const errors: FieldError[] = [];
  values.forEach((item, j) => {
    const p = `${path}.values.${j}`;
    if (!isObject(item)) {
      errors.push(err('InvalidType', p, 'This value should be of type object.'));
      return;
    }
    const r = normalizeOne(def, item, p);
    if ('error' in r) errors.push(r.error);
    else out.push(r.value);
  });
  return { values: errors.length ? null : out, errors };
}

function normalizeOne(def: CustomFieldDef, item: Record<string, unknown>, p: string): { value: StoredValue } | { error: FieldError } {
  const v = item.value;
  if (def.type === 'select' || def.type === 'radiobutton' || def.type === 'multiselect') {
    const enums = def.enums ?? [];
    if (item.enum_id !== undefined) {
      const e = enums.find((x) => x.id === item.enum_id);
      return e ? { value: { value: e.value, enumId: e.id, enumCode: null } } : { error: err('NotSupportedChoice', `${p}.enum_id`, 'The value you selected is not a valid choice.') };
    }
    const e = enums.find((x) => x.value === v);
    return e ? { value: { value: e.value, enumId: e.id, enumCode: null } } : { error: err('NotSupportedChoice', `${p}.value`, 'The value you selected is not a valid choice.') };
  }
  if (def.type === 'multitext') {
    if (typeof v !== 'string' || v.trim() === '') return { error: err('NotBlank', `${p}.value`, 'This value should not be blank.') };
    const enums = def.enums ?? [];
    const e =
      item.enum_id !== undefined ? enums.find((x) => x.id === item.enum_id) : item.enum_code !== undefined ? enums.find((x) => x.value === item.enum_code) : enums[0];
    if (!e) return { error: err('NotSupportedChoice', `${p}.${item.enum_id !== undefined ? 'enum_id' : 'enum_code'}`, 'The value you selected is not a valid choice.') };
    return { value: { value: v, enumId: e.id, enumCode: e.value } };
  }
  if (v === undefined || v === null) return { error: err('NotBlank', `${p}.value`, 'This value should not be blank.') };
  if (isDateType(def.type)) {
    const t = toUnix(v);
    return t === null ? { error: err('InvalidType', `${p}.value`, 'This value should be a unix timestamp or an RFC 3339 date.') } : { value: { value: t } };
  }
  if (def.type === 'numeric' || def.type === 'price') {
    const n = toNumber(v);
    return n === null ? { error: err('InvalidType', `${p}.value`, 'This value should be of type numeric.') } : { value: { value: n } };
  }
  if (def.type === 'checkbox') {
    return typeof v === 'boolean' ? { value: { value: v } } : { error: err('InvalidType', `${p}.value`, 'This value should be of type bool.') };
  }
  // text, textarea, url
  if (typeof v === 'number') return { value: { value: String(v) } };
  return typeof v === 'string' ? { value: { value: v } } : { error: err('InvalidType', `${p}.value`, 'This value should be of type string.') };
}

/** Seeding shorthand (`customFields: {[fieldId]: 'text' | 42}`) to the API's input shape, then normalized. */
export function seedValues(defs: Map<number, CustomFieldDef>, input: Record<number, string | number> | undefined): FieldValues[] {
  const out: FieldValues[] = [];
  for (const [key, raw] of Object.entries(input ?? {})) {
    const def = defs.get(Number(key));
    if (!def) throw new Error(`Unknown custom field ${key}`);
    let item: Record<string, unknown> = { value: raw };
    if ((def.type === 'select' || def.type === 'radiobutton' || def.type === 'multiselect') && typeof raw === 'number') item = { enum_id: raw };
    if (def.type === 'checkbox') item = { value: raw === 1 || raw === '1' || raw === 'true' };
    const r = normalizeValues(def, [item], `customFields.${key}`);
    if (r.errors.length || !r.values) throw new Error(r.errors.map((e) => `${e.path}: ${e.detail}`).join('; '));
    out.push({ fieldId: def.id, values: r.values });
  }
  return sortByDef(out, defs);
}

/** Sets or clears one field in an entity's list, keeping the account's field order (as Kommo does). */
export function setField(list: FieldValues[], defs: Map<number, CustomFieldDef>, fieldId: number, values: StoredValue[] | null): FieldValues[] {
  const rest = list.filter((f) => f.fieldId !== fieldId);
  if (values) rest.push({ fieldId, values });
  return sortByDef(rest, defs);
}

function sortByDef(list: FieldValues[], defs: Map<number, CustomFieldDef>): FieldValues[] {
  const order = (id: number) => defs.get(id)?.sort ?? 0;
  return list.sort((a, b) => order(a.fieldId) - order(b.fieldId) || a.fieldId - b.fieldId);
}

export interface RenderOptions {
  /** Kommo's numeric/price values: unconfirmed whether strings or numbers, so the fake can serve either. */
  numericAs: 'string' | 'number';
}

/** `custom_fields_values` as the API returns it: an array, or null when the entity has none. */
export function renderFieldValues(list: FieldValues[], defs: Map<number, CustomFieldDef>, o: RenderOptions) {
  const out = list
    .filter((f) => defs.has(f.fieldId))
    .map((f) => {
      const def = defs.get(f.fieldId)!;
      return {
        field_id: def.id,
        field_name: def.name,
        field_code: def.code,
        field_type: def.type,
        values: f.values.map((v) => renderValue(def, v, o)),
      };
    });
  return out.length ? out : null;
}

function renderValue(def: CustomFieldDef, v: StoredValue, o: RenderOptions): Record<string, unknown> {
  if (isEnumType(def.type)) return { value: v.value, enum_id: v.enumId ?? null, enum_code: v.enumCode ?? null };
  if ((def.type === 'numeric' || def.type === 'price') && o.numericAs === 'string') return { value: String(v.value) };
  return { value: v.value };
}

/** Field definition as `GET /{entity}/custom_fields` returns it. */
export function renderFieldDef(def: CustomFieldDef, accountId: number) {
  return {
    id: def.id,
    name: def.name,
    type: def.type,
    account_id: accountId,
    code: def.code,
    sort: def.sort,
    is_api_only: false,
    enums: def.enums ? def.enums.map((e) => ({ id: e.id, value: e.value, sort: e.sort })) : null,
    group_id: null,
    required_statuses: [],
    is_deletable: def.code === null,
    is_predefined: def.code !== null && def.entity !== 'leads',
    entity_type: def.entity,
    ...(def.catalogId !== undefined ? { catalog_id: def.catalogId } : {}),
  };
}
