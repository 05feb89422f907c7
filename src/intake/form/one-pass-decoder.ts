// The one-pass road of the form decoder: a whole well-formed ASCII body (what Kommo sends) decoded over its
// bytes at once, keys split into segments, the segments a key shares with the previous key skipped. It
// declines anything else; the pair-by-pair road then finds, and words, the problem.
import { isUtf8 } from 'node:buffer';
import type { FormBuilder } from './tree-builder.js';

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
export function decodeBodyFast(body: string, maxParams: number, maxDepth: number): DecodedBody | undefined {
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
export function addDecodedFields(form: FormBuilder, decoded: DecodedBody): void {
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
