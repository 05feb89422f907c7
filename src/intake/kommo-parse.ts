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
 * Both are pure functions of their input: no I/O, no logging, no global state (a work space of the
 * parser is reused between calls, but nothing returned depends on it). Node built-ins only.
 */

import { isUtf8 } from 'node:buffer';

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

function createNode(): NestedForm {
  return Object.create(null) as NestedForm;
}

function quote(text: string): string {
  const shown = text.length > QUOTE_MAX ? `${text.slice(0, QUOTE_MAX)}…` : text;
  return JSON.stringify(shown);
}

/** True when `text` is one or more ASCII digits. */
function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** '0' or digits without a leading zero: the integer keys that `[]` counts past. */
function isCanonicalIndex(segment: string): boolean {
  return isDigits(segment) && (segment.charCodeAt(0) !== 0x30 || segment.length === 1);
}

// ----- The fast road: the whole body at once ----------------------------------------------------

/** What `decodeBodyFast` found. `ends` and `shapes` live in the reused work space: read them at once. */
interface DecodedBody {
  pairs: number;
  /**
   * For pair p, `shapes[2p]` is how many segments its key has, and `shapes[2p + 1]` how many of them, from
   * the first, are the same as in the key of pair p - 1 (0 for pair 0).
   */
  shapes: Int32Array;
  /**
   * Pair by pair, the key segments that are not the same as the previous key's, then the value; each
   * followed by one separator char.
   */
  text: string;
  /** `ends[n]`: where the n-th piece of `text` ends (at its separator); the next one starts just after. */
  ends: Int32Array;
}

// Char codes.
const PERCENT = 0x25;
const AMPERSAND = 0x26;
const PLUS = 0x2b;
const EQUALS = 0x3d;
const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const SPACE = 0x20;
/** Written after each segment and value. Any ASCII byte would do: `ends` says where pieces end, not it. */
const SEPARATOR = AMPERSAND;

/** Where `decodeBodyFast` is in a key. */
const IN_HEAD = 0; // the top-level name, before any '['
const IN_SEGMENT = 1; // after a '[', before its ']'
const AFTER_SEGMENT = 2; // just after a ']': only '[', '=', '&' or the end may follow

/** Value of a hex digit by byte; -1 for every other byte. */
const HEX_VALUE: Int8Array = (() => {
  const table = new Int8Array(256).fill(-1);
  for (let d = 0; d < 10; d += 1) table[0x30 + d] = d;
  for (let d = 0; d < 6; d += 1) {
    table[0x41 + d] = 10 + d;
    table[0x61 + d] = 10 + d;
  }
  return table;
})();

/** The byte that the `%XX` escape at `i` stands for; negative unless `%` is followed by two hex digits. */
function escapedByte(bytes: Uint8Array, i: number, length: number): number {
  if (i + 2 >= length) return -1;
  // A -1 (not a hex digit) on either side makes the result negative.
  return ((HEX_VALUE[bytes[i + 1] as number] as number) << 4) | (HEX_VALUE[bytes[i + 2] as number] as number);
}

/** How much a decoded byte lowers the UTF-16 length below the byte count: see `decodeBodyFast`. */
function utf16Shrink(byte: number): number {
  if (byte < 0x80) return 0;
  if (byte < 0xc0) return 1; // continues a multi-byte sequence: no char of its own
  return byte >= 0xf0 ? -1 : 0; // starts a 4-byte sequence: a surrogate pair, two chars
}

/**
 * Work space of `decodeBodyFast`, reused from call to call (parsing is synchronous, so calls never overlap).
 * What it holds is only read by the parse that wrote it (the tree holds strings, never views of it). A body
 * longer than SCRATCH_KEEP chars gets a work space of its own, dropped after the call.
 */
interface WorkSpace {
  /** The body's bytes, then the decoded output: 3 bytes per body char (see `decodeBodyFast`). */
  bytes: Buffer;
  ends: Int32Array;
  shapes: Int32Array;
  /** Longest body it fits. */
  chars: number;
}
const SCRATCH_KEEP = 32 * 1024;
let scratch: WorkSpace | undefined;

function workSpace(chars: number): WorkSpace {
  if (scratch !== undefined && chars <= scratch.chars) return scratch;
  const size = chars > SCRATCH_KEEP ? chars : Math.min(SCRATCH_KEEP, Math.max(chars, 2 * (scratch?.chars ?? 0), 4096));
  // Bounds, for a body of `chars` chars: a pair of r chars has at least one char and at most r + 1 pieces
  // (a segment after the first takes at least '[' and ']'), so there are at most (chars + 1) / 2 pairs and
  // chars + 1 pieces; and it decodes to at most r + 2 bytes with separators, so the output (written after
  // the body's bytes) takes at most 2 * chars + 1 bytes.
  const space: WorkSpace = {
    bytes: Buffer.allocUnsafe(3 * size + 1),
    ends: new Int32Array(size + 1),
    shapes: new Int32Array(size + 2),
    chars: size,
  };
  if (size <= SCRATCH_KEEP) scratch = space;
  return space;
}

/**
 * Splits and decodes the whole body in one pass over its bytes, without `decodeURIComponent`, and splits each
 * key into its segments (`leads[status][0]` → leads, status, 0). Returns undefined — the caller then takes
 * the slow road, which finds and reports the problem — for anything but a clean body: a character outside
 * ASCII, a `%` not followed by two hex digits, invalid UTF-8, a malformed key (empty name, unbalanced
 * brackets, text after a `]`), a key deeper than `maxDepth`, more than `maxParams` pairs. Forbidden segments
 * and conflicts between keys are left to `FormBuilder`, which reports them itself.
 *
 * How: native code copies the body into a byte buffer (reading bytes is several times cheaper than
 * `charCodeAt`) and says whether it is all ASCII: then it takes one byte per char. For each pair, one loop
 * decodes the key and one the value: each byte — a literal char, `+` as a space, or the byte of a `%XX`
 * escape — goes to the output area, where each segment and value is followed by a separator byte. Like the
 * slow road, a key is decoded before its brackets are read, so `%5B` and `%5D` are brackets too. The output
 * is checked as strict UTF-8 and turned into one string by native code. While writing, the loops track the
 * output's UTF-16 length (a byte that continues a UTF-8 sequence adds no char, a 4-byte sequence adds two),
 * which is where each piece ends in that string.
 *
 * Consecutive keys mostly share their first segments (`leads[status][0][custom_fields][3]...`). Before
 * decoding a key, its raw bytes are compared with the previous key's: the segments up to the last `]` that
 * both have in common are skipped — same bytes, same segments, valid there — and only counted, so they
 * need no decoding, no new string, and `FormBuilder` no new walk down the tree.
 *
 * Why this equals `decodeURIComponent` per key and per value: with only ASCII literals, a component decodes
 * exactly when its bytes are valid UTF-8 (a multi-byte sequence must then be all escapes, since an ASCII
 * byte cannot continue one), and both accept strict UTF-8 only (no overlong forms, surrogates or code points
 * above U+10FFFF); the native decoder keeps a leading U+FEFF as `decodeURIComponent` does. And as every piece
 * is followed by an ASCII separator, the whole output is valid UTF-8 exactly when every piece is.
 */
function decodeBodyFast(body: string, maxParams: number, maxDepth: number): DecodedBody | undefined {
  const length = body.length;
  const { bytes, ends, shapes } = workSpace(length);
  // With room for 3 bytes a char, the body is always written whole: as many bytes as chars proves it ASCII.
  if (bytes.write(body, 0, 'utf8') !== length) return undefined;

  let out = length; // next output byte; the output starts after the body
  let shrink = length; // the output's UTF-16 length is `out - shrink`
  let pieces = 0; // entries in `ends`
  let pairs = 0;
  // For the current and the previous key: where it starts in the body, and how far past its start each of
  // its ']' ends (`closeAt[0]` for the first bracket segment, ...).
  let keyStart = 0;
  let closeAt: number[] = [];
  let closers = 0;
  let previousKeyStart = 0;
  let previousCloseAt: number[] = [];
  let previousClosers = 0;

  let i = 0;
  while (i < length) {
    if (bytes[i] === AMPERSAND) {
      i += 1; // an empty pair
      continue;
    }
    if (pairs === maxParams) return undefined; // one pair too many

    // The key, up to the first '=', the next '&' or the end.
    keyStart = i;
    closers = 0;
    let state = IN_HEAD;
    let segments = 0; // segments ended so far
    let pieceStart = out;

    // Skip what this key shares with the previous one, up to one of that key's ']': the same bytes decode to
    // the same segments, which were valid there. They are neither decoded nor written again.
    if (previousClosers > 0) {
      const limit = Math.min(previousCloseAt[previousClosers - 1] as number, length - i);
      let same = 0;
      while (same < limit && bytes[i + same] === bytes[previousKeyStart + same]) same += 1;
      while (previousClosers > 0 && (previousCloseAt[previousClosers - 1] as number) > same) previousClosers -= 1;
      if (previousClosers > 0) {
        for (; closers < previousClosers; closers += 1) closeAt[closers] = previousCloseAt[closers] as number;
        i += closeAt[closers - 1] as number;
        segments = closers + 1; // the top-level name and `closers` bracket segments
        state = AFTER_SEGMENT;
      }
    }
    const shared = segments;

    for (; i < length; i += 1) {
      let c = bytes[i] as number;
      if (c === PERCENT) {
        c = escapedByte(bytes, i, length);
        if (c < 0) return undefined;
        shrink += utf16Shrink(c);
        i += 2;
      } else if (c === AMPERSAND || c === EQUALS) {
        break;
      } else if (c === PLUS) {
        c = SPACE;
      }
      if (c === OPEN) {
        if (state === IN_SEGMENT) return undefined; // '[' inside a segment
        if (state === IN_HEAD) {
          if (out === pieceStart) return undefined; // the key starts with '['
          ends[pieces++] = out - shrink;
          bytes[out++] = SEPARATOR;
          segments = 1;
        }
        state = IN_SEGMENT;
        pieceStart = out;
      } else if (c === CLOSE) {
        if (state !== IN_SEGMENT) return undefined; // ']' without '['
        ends[pieces++] = out - shrink;
        bytes[out++] = SEPARATOR;
        segments += 1;
        if (segments - 1 > maxDepth) return undefined; // too deep
        closeAt[closers++] = i + 1 - keyStart;
        state = AFTER_SEGMENT;
      } else {
        if (state === AFTER_SEGMENT) return undefined; // text after ']'
        bytes[out++] = c;
      }
    }
    if (state === IN_HEAD) {
      if (out === pieceStart) return undefined; // empty key
      ends[pieces++] = out - shrink;
      bytes[out++] = SEPARATOR;
      segments = 1;
    } else if (state === IN_SEGMENT) {
      return undefined; // '[' without ']'
    }

    // The value, after the '=' (if any) up to the next '&' or the end.
    if (i < length && bytes[i] === EQUALS) {
      for (i += 1; i < length; i += 1) {
        let c = bytes[i] as number;
        if (c === PERCENT) {
          c = escapedByte(bytes, i, length);
          if (c < 0) return undefined;
          shrink += utf16Shrink(c);
          i += 2;
        } else if (c === AMPERSAND) {
          break;
        } else if (c === PLUS) {
          c = SPACE;
        }
        bytes[out++] = c;
      }
    }
    ends[pieces++] = out - shrink;
    bytes[out++] = SEPARATOR;
    i += 1; // past the '&'

    shapes[2 * pairs] = segments;
    shapes[2 * pairs + 1] = shared;
    pairs += 1;
    previousKeyStart = keyStart;
    const swap = previousCloseAt;
    previousCloseAt = closeAt;
    previousClosers = closers;
    closeAt = swap;
  }

  const output = bytes.subarray(length, out);
  if (!isUtf8(output)) return undefined;
  return { text: output.toString('utf8'), ends, shapes, pairs };
}

/**
 * Feeds the pairs of a decoded body to the builder. The leading segments a key shares with the previous
 * key (`leads`, `status`, `0`, ... in a Kommo body) are not in the text: they are still in `form.path`.
 */
function addDecodedFields(form: FormBuilder, decoded: DecodedBody): void {
  const { text, ends, shapes, pairs } = decoded;
  const path = form.path;
  let piece = 0; // index into `ends`
  let from = 0; // where that piece starts in `text`
  for (let pair = 0; pair < pairs; pair += 1) {
    const count = shapes[2 * pair] as number;
    const shared = shapes[2 * pair + 1] as number;
    for (let d = shared; d < count; d += 1) {
      const end = ends[piece++] as number;
      path[d] = text.slice(from, end);
      from = end + 1;
    }
    const end = ends[piece++] as number;
    const value = text.slice(from, end);
    from = end + 1;
    form.addField(count, shared, value, pair + 1);
  }
}

// ----- The slow road: one pair at a time --------------------------------------------------------

function addFieldsOneByOne(form: FormBuilder, body: string, maxParams: number, maxDepth: number): void {
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
      const count = parseKey(key, pairNo, maxDepth, form.path);
      form.addField(count, 0, value, pairNo);
    }
    start = end + 1;
  }
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

/**
 * Splits `root[a][b]` into path = ['root', 'a', 'b'] and returns the segment count. An empty segment (`[]`)
 * means "append". Forbidden segments are checked afterwards, by `FormBuilder.addField`.
 */
function parseKey(key: string, pairNo: number, maxDepth: number, path: string[]): number {
  const malformed = (why: string): WebhookParseError =>
    new WebhookParseError('malformed_body', `Field #${pairNo} has a malformed name ${quote(key)}: ${why}.`);

  const open = key.indexOf('[');
  const head = open === -1 ? key : key.slice(0, open);
  if (head === '') {
    throw malformed(open === -1 ? 'the name is empty' : 'the name starts with "[" instead of a top-level name');
  }
  if (head.includes(']')) throw malformed('it has a "]" without a matching "["');
  path[0] = head;
  let count = 1;
  if (open !== -1) {
    let i = open;
    while (i < key.length) {
      if (key[i] !== '[') throw malformed(`unexpected text after "]" at offset ${i}, expected "[" or the end`);
      const close = key.indexOf(']', i + 1);
      const nextOpen = key.indexOf('[', i + 1);
      if (close === -1 || (nextOpen !== -1 && nextOpen < close)) {
        throw malformed(`the "[" at offset ${i} has no matching "]"`);
      }
      path[count] = key.slice(i + 1, close);
      count += 1;
      if (count - 1 > maxDepth) {
        throw new WebhookParseError(
          'too_deep',
          `Field #${pairNo} ${quote(key)} is nested deeper than ${maxDepth} bracket levels (limit maxDepth=${maxDepth}).`,
        );
      }
      i = close + 1;
    }
  }
  return count;
}

// ----- Building the tree -----------------------------------------------------------------------

/**
 * The tree of one parse, built one field at a time from a key already split into `path` (by `parseKey` or
 * `decodeBodyFast`, which have checked its syntax and depth).
 */
class FormBuilder {
  readonly root: NestedForm = createNode();
  /** Segments of the key being added (`path[0]` is the top-level name); then those of the last key added. */
  readonly path: string[] = [];
  /** `nodes[d]` is the object that holds `path[d]` of the last key added (`nodes[0]` is the root). */
  private readonly nodes: NestedForm[] = [this.root];
  /** How many leading segments of the last key lead to the same objects again: intermediate, not `[]`. */
  private reusable = 0;
  /**
   * Next index for `[]`, for each object that has met one: one past the largest canonical integer key it
   * holds (BigInt: an index may have any number of digits). Made on the first `[]` of the body, so bodies
   * without appends — Kommo numbers every item — never pay for the bookkeeping.
   */
  private nextIndex: Map<NestedForm, bigint> | undefined;

  /**
   * Stores `value` under the first `count` segments of `path`. The first `shared` of them are known to equal
   * the last key's (and were checked then), so the walk can start where that key passed them.
   */
  addField(count: number, shared: number, value: string, pairNo: number): void {
    const path = this.path;
    for (let d = shared; d < count; d += 1) {
      const segment = path[d] as string;
      // The forbidden names have 9 or 11 chars: other lengths skip the set lookup.
      if ((segment.length === 9 || segment.length === 11) && FORBIDDEN_SEGMENTS.has(segment)) {
        throw new WebhookParseError(
          'malformed_body',
          `Field #${pairNo} has a malformed name ${quote(keyPrefix(path, count - 1))}: ` +
            `the segment ${quote(segment)} is not allowed (it could alter object prototypes).`,
        );
      }
    }

    const nodes = this.nodes;
    let depth = Math.min(shared, this.reusable, count - 1);
    let node = nodes[depth] as NestedForm;
    for (; depth < count; depth += 1) {
      nodes[depth] = node;
      let segment = path[depth] as string;
      if (segment === '') segment = this.appendIndex(node);
      // Every object has a null prototype, so a plain read finds own properties only.
      const existing = node[segment];
      if (depth === count - 1) {
        if (existing !== undefined) {
          const key = keyPrefix(path, count - 1);
          throw new WebhookParseError(
            'malformed_body',
            typeof existing === 'string'
              ? `The field ${quote(key)} appears more than once; each name must be sent once.`
              : `The field ${quote(key)} has a plain value, but other fields use it as an object (${quote(`${key}[...]`)}).`,
          );
        }
        this.setChild(node, segment, value);
      } else if (existing === undefined) {
        const child = createNode();
        this.setChild(node, segment, child);
        node = child;
      } else if (typeof existing === 'string') {
        throw new WebhookParseError(
          'malformed_body',
          `The field ${quote(keyPrefix(path, count - 1))} uses ${quote(keyPrefix(path, depth))} as an object, ` +
            'but another field gives it a value.',
        );
      } else {
        node = existing;
      }
    }

    let reusable = 0;
    while (reusable < count - 1 && path[reusable] !== '') reusable += 1;
    this.reusable = reusable;
  }

  private setChild(node: NestedForm, segment: string, child: string | NestedForm): void {
    node[segment] = child;
    // Only objects that have met a `[]` keep a next index; the others compute theirs when they meet one.
    const next = this.nextIndex?.get(node);
    if (next !== undefined && isCanonicalIndex(segment)) {
      const after = BigInt(segment) + 1n;
      if (after > next) this.nextIndex?.set(node, after);
    }
  }

  /** The key `[]` stands for in `node`: one past the largest canonical integer key the object holds, or '0'. */
  private appendIndex(node: NestedForm): string {
    this.nextIndex ??= new Map();
    let next = this.nextIndex.get(node);
    if (next === undefined) {
      // Keys are never removed, so the largest key now is the largest ever set, as if it had been tracked.
      next = 0n;
      for (const key of Object.keys(node)) {
        if (isCanonicalIndex(key)) {
          const after = BigInt(key) + 1n;
          if (after > next) next = after;
        }
      }
      this.nextIndex.set(node, next);
    }
    return next.toString();
  }
}

/**
 * `a[b][c]` for the first `depth + 1` segments of the path (empty segments shown as `[]`). With the whole
 * path, this is the decoded key itself: a key that parsed is exactly its segments in that form.
 */
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
