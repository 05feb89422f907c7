/**
 * Parser for Kommo (amoCRM) webhook bodies.
 *
 * Kommo POSTs `application/x-www-form-urlencoded` bodies with PHP-style nested keys
 * (`leads[status][0][custom_fields][1][values][0]=1764028800&account[subdomain]=acme`).
 * See shared/reference/kommo.md, section "Webhooks".
 *
 * Two layers:
 * - `parseNestedForm` decodes the body into nested objects. Every bracket segment becomes an object key;
 *   numeric segments stay string keys (no arrays), so there is no array-length limit such as qs's
 *   `arrayLimit` (20) that would turn a lead with 25 custom fields into something else.
 * - `parseKommoWebhook` turns that tree into typed lead events.
 *
 * Both are pure functions of their input: no I/O, no logging, no global state.
 * Node built-ins only.
 */

export type WebhookParseErrorCode = 'malformed_body' | 'too_many_fields' | 'too_deep' | 'invalid_item';

export class WebhookParseError extends Error {
  readonly code: WebhookParseErrorCode;

  constructor(code: WebhookParseErrorCode, message: string) {
    super(message);
    this.name = 'WebhookParseError';
    this.code = code;
  }
}

export interface NestedFormLimits {
  /** Most non-empty `key=value` pairs accepted; one more → `too_many_fields`. Default 5000. */
  maxParams: number;
  /** Most bracket segments in one key (`leads[status][0][id]` has 3); one more → `too_deep`. Default 12. */
  maxDepth: number;
}

export const DEFAULT_NESTED_FORM_LIMITS: Readonly<NestedFormLimits> = Object.freeze({
  maxParams: 5000,
  maxDepth: 12,
});

export type NestedForm = { [key: string]: string | NestedForm };

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

// ---------------------------------------------------------------------------------------------
// parseNestedForm
// ---------------------------------------------------------------------------------------------

/** Key segments that could reach Object.prototype in a consumer that copies the tree naively. */
const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const CANONICAL_INDEX = /^(?:0|[1-9][0-9]*)$/;

/** Longest piece of user input quoted in an error message. */
const QUOTE_MAX = 120;

/**
 * Decodes an `application/x-www-form-urlencoded` body into nested objects.
 *
 * - Pairs are split on `&`, then on the first `=`; a pair without `=` has the value ''. Empty pairs are skipped.
 * - `+` means space; `%XX` is UTF-8. Malformed escapes or invalid UTF-8 → `malformed_body`.
 * - `a[b][c]=v` → `{ a: { b: { c: 'v' } } }`. A key without brackets is a top-level key.
 *   `a[]=1&a[]=2` appends under the keys '0', '1' (one past the largest integer key already there).
 * - Unbalanced brackets, text after a `]`, an empty name, a key used both as a value and as an object,
 *   the same key twice, or a `__proto__` / `constructor` / `prototype` segment → `malformed_body`.
 * - More than `maxParams` pairs → `too_many_fields`; more than `maxDepth` bracket segments → `too_deep`.
 *
 * Every object in the result has a null prototype.
 */
export function parseNestedForm(body: string, limits?: Partial<NestedFormLimits>): NestedForm {
  const { maxParams, maxDepth } = resolveLimits(limits);
  const root = createNode();
  // Next index for `[]` per object: one past the largest canonical integer key it holds.
  const nextIndex = new WeakMap<NestedForm, bigint>();

  let pairNo = 0;
  let start = 0;
  while (start <= body.length) {
    let end = body.indexOf('&', start);
    if (end === -1) end = body.length;
    if (end > start) {
      pairNo += 1;
      if (pairNo > maxParams) {
        throw new WebhookParseError(
          'too_many_fields',
          `The body has more than ${maxParams} fields (limit maxParams=${maxParams}). ` +
            'Split the payload or raise the limit if such bodies are legitimate.',
        );
      }
      const pair = body.slice(start, end);
      const eq = pair.indexOf('=');
      const rawKey = eq === -1 ? pair : pair.slice(0, eq);
      const rawValue = eq === -1 ? '' : pair.slice(eq + 1);
      const key = decodeComponent(rawKey, () => `the name of field #${pairNo}`);
      const value = decodeComponent(rawValue, () => `the value of field #${pairNo} (${quote(key)})`);
      const path = parseKey(key, pairNo, maxDepth);
      assign(root, path, value, key, nextIndex);
    }
    start = end + 1;
  }
  return root;
}

function resolveLimits(limits: Partial<NestedFormLimits> | undefined): NestedFormLimits {
  const maxParams = limits?.maxParams ?? DEFAULT_NESTED_FORM_LIMITS.maxParams;
  const maxDepth = limits?.maxDepth ?? DEFAULT_NESTED_FORM_LIMITS.maxDepth;
  if (!Number.isSafeInteger(maxParams) || maxParams < 0) {
    throw new RangeError(`maxParams must be a non-negative integer, got ${String(maxParams)}`);
  }
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 0) {
    throw new RangeError(`maxDepth must be a non-negative integer, got ${String(maxDepth)}`);
  }
  return { maxParams, maxDepth };
}

function createNode(): NestedForm {
  return Object.create(null) as NestedForm;
}

function quote(text: string): string {
  const shown = text.length > QUOTE_MAX ? `${text.slice(0, QUOTE_MAX)}…` : text;
  return JSON.stringify(shown);
}

/** `+` → space, then strict UTF-8 percent-decoding. */
function decodeComponent(raw: string, where: () => string): string {
  const spaced = raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    throw new WebhookParseError('malformed_body', `Malformed percent-encoding in ${where()}: ${describeBadEscape(raw)}`);
  }
}

/** Says which escape is wrong, quoting only the escape itself (values may hold personal data). */
function describeBadEscape(raw: string): string {
  const hint =
    'The body must be application/x-www-form-urlencoded UTF-8, with every "%" followed by two hex digits ' +
    '(a literal "%" is sent as %25).';
  for (let i = raw.indexOf('%'); i !== -1; i = raw.indexOf('%', i + 1)) {
    if (!/^[0-9A-Fa-f]{2}$/.test(raw.slice(i + 1, i + 3))) {
      return `${quote(raw.slice(i, i + 3))} at offset ${i} is not a "%" followed by two hex digits. ${hint}`;
    }
  }
  // Every escape is well-formed, so the bytes are not valid UTF-8: show the run of escapes at fault.
  const runs = raw.match(/(?:%[0-9A-Fa-f]{2})+/g) ?? [];
  for (const run of runs) {
    try {
      decodeURIComponent(run);
    } catch {
      return `the bytes ${quote(run)} are not valid UTF-8 (truncated or invalid multi-byte sequence). ${hint}`;
    }
  }
  return `the text is not valid UTF-8 percent-encoding. ${hint}`;
}

/** Splits `root[a][b]` into ['root', 'a', 'b']. An empty segment (`[]`) means "append". */
function parseKey(key: string, pairNo: number, maxDepth: number): string[] {
  const malformed = (why: string): WebhookParseError =>
    new WebhookParseError('malformed_body', `Field #${pairNo} has a malformed name ${quote(key)}: ${why}.`);

  const open = key.indexOf('[');
  const head = open === -1 ? key : key.slice(0, open);
  if (head === '') {
    throw malformed(open === -1 ? 'the name is empty' : 'the name starts with "[" instead of a top-level name');
  }
  if (head.includes(']')) throw malformed('it has a "]" without a matching "["');
  const path = [head];
  if (open !== -1) {
    let i = open;
    while (i < key.length) {
      if (key[i] !== '[') throw malformed(`unexpected text after "]" at offset ${i}, expected "[" or the end`);
      const close = key.indexOf(']', i + 1);
      const nextOpen = key.indexOf('[', i + 1);
      if (close === -1 || (nextOpen !== -1 && nextOpen < close)) {
        throw malformed(`the "[" at offset ${i} has no matching "]"`);
      }
      path.push(key.slice(i + 1, close));
      if (path.length - 1 > maxDepth) {
        throw new WebhookParseError(
          'too_deep',
          `Field #${pairNo} ${quote(key)} is nested deeper than ${maxDepth} bracket levels (limit maxDepth=${maxDepth}).`,
        );
      }
      i = close + 1;
    }
  }
  for (const segment of path) {
    if (FORBIDDEN_SEGMENTS.has(segment)) {
      throw malformed(`the segment ${quote(segment)} is not allowed (it could alter object prototypes)`);
    }
  }
  return path;
}

function assign(
  root: NestedForm,
  path: string[],
  value: string,
  key: string,
  nextIndex: WeakMap<NestedForm, bigint>,
): void {
  let node = root;
  for (let depth = 0; depth < path.length; depth += 1) {
    let segment = path[depth] as string;
    if (segment === '') {
      segment = (nextIndex.get(node) ?? 0n).toString();
    }
    const last = depth === path.length - 1;
    const existing = Object.hasOwn(node, segment) ? node[segment] : undefined;
    if (last) {
      if (existing !== undefined) {
        throw new WebhookParseError(
          'malformed_body',
          typeof existing === 'string'
            ? `The field ${quote(key)} appears more than once; each name must be sent once.`
            : `The field ${quote(key)} has a plain value, but other fields use it as an object (${quote(`${key}[...]`)}).`,
        );
      }
      setChild(node, segment, value, nextIndex);
      return;
    }
    if (existing === undefined) {
      const child = createNode();
      setChild(node, segment, child, nextIndex);
      node = child;
    } else if (typeof existing === 'string') {
      throw new WebhookParseError(
        'malformed_body',
        `The field ${quote(key)} uses ${quote(keyPrefix(path, depth))} as an object, but another field gives it a value.`,
      );
    } else {
      node = existing;
    }
  }
}

function setChild(
  node: NestedForm,
  segment: string,
  child: string | NestedForm,
  nextIndex: WeakMap<NestedForm, bigint>,
): void {
  node[segment] = child;
  if (CANONICAL_INDEX.test(segment)) {
    const next = BigInt(segment) + 1n;
    if (next > (nextIndex.get(node) ?? 0n)) nextIndex.set(node, next);
  }
}

/** `a[b][c]` for the first `depth + 1` segments of the path (empty segments shown as `[]`). */
function keyPrefix(path: string[], depth: number): string {
  const [head, ...rest] = path.slice(0, depth + 1);
  return `${head ?? ''}${rest.map((s) => `[${s}]`).join('')}`;
}

// ---------------------------------------------------------------------------------------------
// parseKommoWebhook
// ---------------------------------------------------------------------------------------------

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
  for (const key of keys) {
    if (!/^[0-9]+$/.test(key)) throw invalid(`${itemsKey}[${key}]: item indexes must be non-negative integers`);
  }
  return keys.sort(compareIndexes);
}

function compareIndexes(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  if (x !== y) return x < y ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0; // '1' and '01': keep a stable, deterministic order
}

function parseId(raw: string, key: string): number {
  if (!/^[0-9]+$/.test(raw)) {
    throw invalid(`${key} must be a non-negative integer, got ${quote(raw)}`);
  }
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) {
    throw invalid(`${key} is larger than Number.MAX_SAFE_INTEGER (${quote(raw)})`);
  }
  return n;
}

/** An ID-like field that may be absent; present but not a non-negative safe integer → invalid_item. */
function optionalId(node: NestedForm, field: string, parentKey: string): number | undefined {
  const value = node[field];
  if (value === undefined) return undefined;
  const key = `${parentKey}[${field}]`;
  if (typeof value !== 'string') throw invalid(`${key} must be a non-negative integer, but it has nested fields`);
  return parseId(value, key);
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

function parseLeadItem(action: string, item: NestedForm, itemKey: string): KommoLeadEvent {
  const leadId = leadIdOf(action, item, itemKey);
  const event: KommoLeadEvent = { action, leadId, customFields: [], tags: [] };

  const ids = [
    ['statusId', 'status_id'],
    ['oldStatusId', 'old_status_id'],
    ['pipelineId', 'pipeline_id'],
    ['oldPipelineId', 'old_pipeline_id'],
    ['accountId', 'account_id'],
  ] as const;
  for (const [prop, field] of ids) {
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
