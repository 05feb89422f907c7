/**
 * Decoder for `application/x-www-form-urlencoded` bodies with PHP-style nested keys, as Kommo (amoCRM) sends
 * them (`leads[status][0][custom_fields][1][values][0]=1764028800&account[subdomain]=acme`; see
 * shared/reference/kommo.md, "Webhooks"). Every bracket segment becomes an object key; numeric segments stay
 * string keys (no arrays), so there is no array-length limit such as qs's `arrayLimit` (20) that would turn a
 * lead with 25 custom fields into something else.
 *
 * A pure function of its input: no I/O, no logging, no global state (the one-pass road reuses a work space
 * between calls, but nothing returned depends on it). Node built-ins only: see the README's dependency notes
 * for why not `fast-querystring`.
 */
import { addDecodedFields, decodeBodyFast } from './one-pass-decoder.js';
import { addFieldsOneByOne } from './pair-by-pair-decoder.js';
import { FormBuilder, type NestedForm } from './tree-builder.js';

export { WebhookParseError, type WebhookParseErrorCode } from './parse-error.js';
export type { NestedForm } from './tree-builder.js';

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
 *
 * Two roads lead to the same result. `decodeBodyFast` decodes a whole well-formed ASCII body (what Kommo
 * sends) in one pass over its bytes, keys already split into segments. Any body it declines — a raw
 * non-ASCII character, a malformed escape, invalid UTF-8, a malformed or too deep key, too many pairs — takes
 * the pair-by-pair loop, which decodes with `decodeURIComponent` and parses each key on its own, and so
 * reports the first error exactly where and how it always did. Both roads build with the same `FormBuilder`.
 */
export function parseNestedForm(body: string, limits?: Partial<NestedFormLimits>): NestedForm {
  const { maxParams, maxDepth } = resolveLimits(limits);
  const form = new FormBuilder();
  const decoded = decodeBodyFast(body, maxParams, maxDepth);
  if (decoded !== undefined) {
    addDecodedFields(form, decoded);
  } else {
    addFieldsOneByOne(form, body, maxParams, maxDepth);
  }
  return form.root;
}

/** The pair-by-pair road alone: what `parseNestedForm` must equal on every body (a property test holds them equal). */
export function parseNestedFormPairByPair(body: string, limits?: Partial<NestedFormLimits>): NestedForm {
  const { maxParams, maxDepth } = resolveLimits(limits);
  const form = new FormBuilder();
  addFieldsOneByOne(form, body, maxParams, maxDepth);
  return form.root;
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
