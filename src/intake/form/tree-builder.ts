// The tree of one parse, built a field at a time from keys already split into segments. Both decoding roads
// build with it, so the checks that need the tree (the same name twice, a name used as a value and as an
// object, `[]` appends, prototype names) are made, and worded, in one place.
import { quote, WebhookParseError } from './parse-error.js';

/** A decoded form: every object has a null prototype; numeric segments stay string keys (no arrays). */
export type NestedForm = { [key: string]: string | NestedForm };

/** Key segments that could reach Object.prototype in a consumer that copies the tree naively. */
const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function createNode(): NestedForm {
  return Object.create(null) as NestedForm;
}

/** True when `text` is one or more ASCII digits. */
export function isDigits(text: string): boolean {
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

/** Keys come split into `path` by `parseKey` or `decodeBodyFast`, which have checked their syntax and depth. */
export class FormBuilder {
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
