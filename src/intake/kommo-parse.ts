/**
 * Kommo (amoCRM) webhook bodies -> typed lead events. The form decoding is `form/nested-form.ts`; this file
 * reads the tree the way Kommo shapes it (shared/reference/kommo.md, "Webhooks"). A pure function of its input.
 */
import { parseNestedForm, type NestedForm, type NestedFormLimits } from './form/nested-form.js';
import { quote, WebhookParseError } from './form/parse-error.js';
import { isDigits } from './form/tree-builder.js';

export interface KommoCustomField {
  id: number;
  name?: string;
  code?: string;
  values: Array<{ value?: string; enum?: string }>;
}

export interface KommoLeadEvent {
  /** 'add' | 'update' | 'status' | 'delete' | 'note' | ... exactly as in the key. */
  action: string;
  leadId: number;
  statusId?: number;
  oldStatusId?: number;
  pipelineId?: number;
  oldPipelineId?: number;
  accountId?: number;
  /** Unix seconds, from `[last_modified]` (or `[updated_at]` when only that came). */
  lastModified?: number;
  name?: string;
  price?: string;
  customFields: KommoCustomField[];
  tags: Array<{ id?: number; name?: string }>;
}

export interface KommoWebhook {
  account: { id?: number; subdomain?: string };
  /** Every item of every `leads[action]`: actions in body order, items by numeric index. */
  leadEvents: KommoLeadEvent[];
  /** Items of other entities (contacts, companies, unsorted, ...) which the relay ignores. */
  otherItems: number;
}

/**
 * Parses a Kommo webhook body into lead events.
 *
 * - Every item of every `leads[<action>]` becomes one event: actions in the order they first appear in the
 *   body, items ordered by their numeric index (10 after 9). Item indexes must be digits.
 * - The lead id is `leads[<action>][n][id]`; for `leads[note]` items, which carry the note as
 *   `[note][...]`, it falls back to `[note][element_id]` (the id of the lead the note belongs to).
 * - ID-like fields must be non-negative integers ≤ Number.MAX_SAFE_INTEGER: a missing lead id, or any present
 *   ID field that is not one, → `invalid_item` naming the key.
 * - Text fields (name, price, custom-field name/code/value/enum, tag name) are kept when they are strings and
 *   left out otherwise: the relay re-reads the lead through the API, so it never depends on them.
 * - Items of other entities (`contacts[update][0]`, `unsorted[add][0]`, ...) are only counted.
 *
 * Errors from `parseNestedForm` propagate unchanged.
 */
export function parseKommoWebhook(body: string, limits?: Partial<NestedFormLimits>): KommoWebhook {
  const form = parseNestedForm(body, limits);
  const result: KommoWebhook = { account: {}, leadEvents: [], otherItems: 0 };

  for (const [entity, entityValue] of Object.entries(form)) {
    if (entity === 'account') {
      const account = expectObject(entityValue, 'account');
      const id = optionalId(account, 'id', 'account');
      if (id !== undefined) result.account.id = id;
      const subdomain = optionalText(account, 'subdomain');
      if (subdomain !== undefined) result.account.subdomain = subdomain;
    } else if (entity === 'leads') {
      const actions = expectObject(entityValue, 'leads');
      for (const [action, itemsValue] of Object.entries(actions)) {
        const itemsKey = `leads[${action}]`;
        const items = expectObject(itemsValue, itemsKey);
        for (const index of sortedIndexes(items, itemsKey)) {
          const itemKey = `${itemsKey}[${index}]`;
          result.leadEvents.push(parseLeadItem(action, expectObject(items[index], itemKey), itemKey));
        }
      }
    } else if (typeof entityValue !== 'string') {
      // contacts[update][0], companies[add][0], unsorted[add][0], ...: counted, never interpreted.
      for (const itemsValue of Object.values(entityValue)) {
        if (typeof itemsValue !== 'string') result.otherItems += Object.keys(itemsValue).length;
      }
    }
  }
  return result;
}

function invalid(message: string): WebhookParseError {
  return new WebhookParseError('invalid_item', message);
}

function expectObject(value: string | NestedForm | undefined, key: string): NestedForm {
  if (value === undefined) throw invalid(`${key} is missing`);
  if (typeof value === 'string') {
    throw invalid(`${key} must hold nested fields (${key}[...]), but it is a plain value`);
  }
  return value;
}

/** Keys of an item list in numeric order; every key must be a run of digits. */
function sortedIndexes(items: NestedForm, itemsKey: string): string[] {
  const keys = Object.keys(items);
  let inOrder = true;
  for (let n = 0; n < keys.length; n += 1) {
    const key = keys[n] as string;
    if (!isDigits(key)) throw invalid(`${itemsKey}[${key}]: item indexes must be non-negative integers`);
    if (inOrder && n > 0 && compareIndexes(keys[n - 1] as string, key) > 0) inOrder = false;
  }
  // Small integer keys come out of Object.keys in ascending order already: then there is nothing to sort.
  return inOrder ? keys : keys.sort(compareIndexes);
}

/**
 * Orders digit strings by their numeric value, any length (no Number or BigInt): without leading zeros, a
 * longer run is larger, and runs of one length compare digit by digit.
 */
function compareIndexes(a: string, b: string): number {
  let i = 0;
  while (i < a.length - 1 && a.charCodeAt(i) === 0x30) i += 1;
  let j = 0;
  while (j < b.length - 1 && b.charCodeAt(j) === 0x30) j += 1;
  if (a.length - i !== b.length - j) return a.length - i < b.length - j ? -1 : 1;
  for (; i < a.length; i += 1, j += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(j);
    if (x !== y) return x < y ? -1 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0; // '1' and '01': keep a stable, deterministic order
}

/** An ID-like field that may be absent; present but not a non-negative safe integer → invalid_item. */
function optionalId(node: NestedForm, field: string, parentKey: string): number | undefined {
  const value = node[field];
  if (value === undefined) return undefined;
  // The messages name the key `${parentKey}[${field}]`; it is only built when one is thrown.
  if (typeof value !== 'string') {
    throw invalid(`${parentKey}[${field}] must be a non-negative integer, but it has nested fields`);
  }
  if (!isDigits(value)) throw invalid(`${parentKey}[${field}] must be a non-negative integer, got ${quote(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw invalid(`${parentKey}[${field}] is larger than Number.MAX_SAFE_INTEGER (${quote(value)})`);
  }
  return n;
}

function requiredId(node: NestedForm, field: string, parentKey: string): number {
  const id = optionalId(node, field, parentKey);
  if (id === undefined) throw invalid(`${parentKey}[${field}] is missing`);
  return id;
}

function optionalText(node: NestedForm, field: string): string | undefined {
  const value = node[field];
  return typeof value === 'string' ? value : undefined;
}

/** Optional ID fields of a lead item: event property, item field. */
const LEAD_ID_FIELDS = [
  ['statusId', 'status_id'],
  ['oldStatusId', 'old_status_id'],
  ['pipelineId', 'pipeline_id'],
  ['oldPipelineId', 'old_pipeline_id'],
  ['accountId', 'account_id'],
] as const;

function parseLeadItem(action: string, item: NestedForm, itemKey: string): KommoLeadEvent {
  const leadId = leadIdOf(action, item, itemKey);
  const event: KommoLeadEvent = { action, leadId, customFields: [], tags: [] };

  for (const [prop, field] of LEAD_ID_FIELDS) {
    const id = optionalId(item, field, itemKey);
    if (id !== undefined) event[prop] = id;
  }
  // Both are validated when present; last_modified wins.
  const lastModified = optionalId(item, 'last_modified', itemKey);
  const updatedAt = optionalId(item, 'updated_at', itemKey);
  const modified = lastModified ?? updatedAt;
  if (modified !== undefined) event.lastModified = modified;

  const name = optionalText(item, 'name');
  if (name !== undefined) event.name = name;
  const price = optionalText(item, 'price');
  if (price !== undefined) event.price = price;

  event.customFields = parseCustomFields(item['custom_fields'], `${itemKey}[custom_fields]`);
  event.tags = parseTags(item['tags'], `${itemKey}[tags]`);
  return event;
}

function leadIdOf(action: string, item: NestedForm, itemKey: string): number {
  if (item['id'] !== undefined || action !== 'note') return requiredId(item, 'id', itemKey);
  // leads[note][n][note][element_id]: the note's own id is [note][id], the lead is element_id.
  const note = item['note'];
  if (note !== undefined && typeof note !== 'string' && note['element_id'] !== undefined) {
    return requiredId(note, 'element_id', `${itemKey}[note]`);
  }
  throw invalid(`${itemKey}[id] is missing (and so is ${itemKey}[note][element_id])`);
}

/** An absent list or an empty scalar (`[tags]=`) is an empty list; any other scalar is invalid. */
function listItems(value: string | NestedForm | undefined, key: string): Array<[string, string | NestedForm]> {
  if (value === undefined || value === '') return [];
  const node = expectObject(value, key);
  return sortedIndexes(node, key).map((index) => [index, node[index] as string | NestedForm]);
}

function parseCustomFields(value: string | NestedForm | undefined, key: string): KommoCustomField[] {
  return listItems(value, key).map(([index, fieldValue]) => {
    const fieldKey = `${key}[${index}]`;
    const node = expectObject(fieldValue, fieldKey);
    const field: KommoCustomField = { id: requiredId(node, 'id', fieldKey), values: [] };
    const name = optionalText(node, 'name');
    if (name !== undefined) field.name = name;
    const code = optionalText(node, 'code');
    if (code !== undefined) field.code = code;
    field.values = listItems(node['values'], `${fieldKey}[values]`).map(([, entry]) => {
      // A date field arrives as a bare scalar: [values][0]=1542067200.
      if (typeof entry === 'string') return { value: entry };
      const out: { value?: string; enum?: string } = {};
      const v = optionalText(entry, 'value');
      if (v !== undefined) out.value = v;
      const e = optionalText(entry, 'enum');
      if (e !== undefined) out.enum = e;
      return out;
    });
    return field;
  });
}

function parseTags(value: string | NestedForm | undefined, key: string): Array<{ id?: number; name?: string }> {
  return listItems(value, key).map(([index, tagValue]) => {
    const tagKey = `${key}[${index}]`;
    const node = expectObject(tagValue, tagKey);
    const tag: { id?: number; name?: string } = {};
    const id = optionalId(node, 'id', tagKey);
    if (id !== undefined) tag.id = id;
    const name = optionalText(node, 'name');
    if (name !== undefined) tag.name = name;
    return tag;
  });
}
