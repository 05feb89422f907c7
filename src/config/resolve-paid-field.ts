// payment.paidField resolved against the Kommo field it names: which kind of value the relay writes into it
// (sync/paid-field-value.ts), and for a select or radio field which option means "paid" (and "partially
// paid"). Every refusal says what would work, listing the field's options when one is missing.
import type { KommoFieldDefinition } from '../kommo/types.js';
import type { FieldRef, PaidFieldRef } from './mapping.js';

/** Kommo field types the relay can mark paid, and what it writes into each. */
export const PAID_FIELD_TYPES = {
  checkbox: 'ticked',
  date: 'the payment date',
  date_time: 'the payment date',
  text: '"Paid <payment date>"',
  textarea: '"Paid <payment date>"',
  numeric: 'the amount paid',
  select: 'the option named in "value"',
  radiobutton: 'the option named in "value"',
} as const;

export type PaidFieldType = keyof typeof PAID_FIELD_TYPES;

export interface FieldOption {
  id: number;
  name: string;
}

export interface ResolvedPaidField {
  id: number;
  name: string;
  type: string;
  /** select / radiobutton: the option written when the invoice is fully paid. */
  option?: FieldOption;
  /** select / radiobutton: the option written after a partial payment, when the mapping names one. */
  partialOption?: FieldOption;
}

export const isPaidFieldType = (type: string): type is PaidFieldType => Object.hasOwn(PAID_FIELD_TYPES, type);
export const hasOptions = (type: string) => type === 'select' || type === 'radiobutton';

/** The field part of either form: `"Paid"` / `123` or `{ "field": … }`. */
export function paidFieldRef(ref: PaidFieldRef): FieldRef {
  return typeof ref === 'object' ? ref.field : ref;
}

/**
 * `def` is the Kommo field `ref` names (already found by name or ID). Returns the resolution, or problems
 * keyed by the mapping path they concern.
 */
export function resolvePaidField(ref: PaidFieldRef, def: KommoFieldDefinition): { field?: ResolvedPaidField; problems: string[] } {
  const at = (suffix = '') => `MAPPING_FILE payment.paidField${suffix}`;
  const label = `'${def.name}' (${def.id}, ${def.type})`;
  if (!isPaidFieldType(def.type)) {
    const kinds = Object.entries(PAID_FIELD_TYPES).map(([type, what]) => `${type} (${what})`).join(', ');
    return { problems: [`${at()}: the field ${label} is of a type the relay cannot mark paid. Use a field of one of these types: ${kinds}.`] };
  }
  const value = typeof ref === 'object' ? ref.value : undefined;
  const partialValue = typeof ref === 'object' ? ref.partialValue : undefined;
  const base = { id: def.id, name: def.name, type: def.type };
  if (!hasOptions(def.type)) {
    if (value === undefined && partialValue === undefined) return { field: base, problems: [] };
    const key = value !== undefined ? '.value' : '.partialValue';
    return { problems: [`${at(key)}: "value" and "partialValue" name options of a select or radiobutton field; the ${def.type} field ${label} gets ${PAID_FIELD_TYPES[def.type]}. Remove them, or name a select field.`] };
  }
  const options = (def.enums ?? []).map((e) => ({ id: e.id, name: e.value }));
  const listing = options.map((o) => `'${o.name}' (${o.id})`).join(', ') || 'none';
  if (value === undefined) {
    const example = JSON.stringify({ field: def.name, value: options.at(-1)?.name ?? 'Paid' });
    return { problems: [`${at()}: ${label} is a ${def.type} field: name the option that means paid, e.g. ${example}. Options: ${listing}`] };
  }
  const problems: string[] = [];
  const find = (key: string, wanted: FieldRef): FieldOption | undefined => {
    const found = options.filter((o) => (typeof wanted === 'number' ? o.id === wanted : same(o.name, wanted)));
    if (found.length === 1) return found[0];
    if (found.length === 0) problems.push(`${at(key)}: the ${def.type} field '${def.name}' has no option ${JSON.stringify(wanted)}. Options: ${listing}`);
    else problems.push(`${at(key)}: the ${def.type} field '${def.name}' has several options named ${JSON.stringify(wanted)}: use the ID (${found.map((o) => o.id).join(' or ')})`);
    return undefined;
  };
  const option = find('.value', value);
  const partialOption = partialValue === undefined ? undefined : find('.partialValue', partialValue);
  if (problems.length || !option) return { problems };
  return { field: { ...base, option, ...(partialOption ? { partialOption } : {}) }, problems: [] };
}

function same(a: string, b: string): boolean {
  return a.trim().toLocaleLowerCase() === b.trim().toLocaleLowerCase();
}
