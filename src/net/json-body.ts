// JSON from outside the relay — Kommo's and the accounting backends' answers and webhooks — parsed in one
// linear pass. Some backends' IDs are 19-digit integers, beyond what a JS number holds exactly, so every whole integer token
// of 16 or more digits is kept as its own text. A backtracking regular expression did this before and was
// quadratic on a run of `\"` (a 256 KB webhook body held the event loop for 28 s). JSON.parse's reviver
// (which sees each number's source text) would do it too, but calling it for every value costs ~15 times
// the parse on a body of many small values (40 ms for 256 KB): the scan below is one loop over the text.

/** Bounds for a body from an untrusted sender; one more than either → JsonLimitError. */
export interface JsonLimits {
  /** Most nested objects and arrays. */
  maxDepth: number;
  /** Most keys in one object (V8 builds a big object far more slowly than a big array). */
  maxKeys: number;
}

export class JsonLimitError extends Error {}

/** JSON with any integer longer than 15 digits kept as a string, so 19-digit IDs survive. Text
 *  that is not JSON (Kommo's HTML 403 page) is returned as it is. */
export function parseBody<T>(text: unknown): T {
  if (typeof text !== 'string') return text as T;
  if (text.trim() === '') return undefined as T;
  try {
    return JSON.parse(quoteLongIntegers(text)) as T;
  } catch {
    return text as T;
  }
}

/** Like parseBody, for a webhook body: throws JsonLimitError past the limits, SyntaxError on bad JSON. */
export function parseLimitedJson(text: string, limits: JsonLimits): unknown {
  return JSON.parse(quoteLongIntegers(text, limits));
}

const QUOTE = 34;
const BACKSLASH = 92;
const MINUS = 45;
const COLON = 58;
const OPEN_OBJECT = 123;
const OPEN_ARRAY = 91;
const CLOSE_OBJECT = 125;
const CLOSE_ARRAY = 93;
const isDigit = (c: number) => c >= 48 && c <= 57;
/** What can follow the first character of a number token: digits, '.', 'e', 'E', '+', '-'. */
const isNumberTail = (c: number) => isDigit(c) || c === 46 || c === 101 || c === 69 || c === 43 || c === MINUS;

/**
 * Wraps in quotes each number token outside strings that is a whole integer of 16+ digits (not the
 * fraction or exponent digits of a decimal like 0.30000000000000004). Every character is looked at once.
 * Invalid JSON stays invalid (JSON.parse then says so).
 */
export function quoteLongIntegers(text: string, limits?: JsonLimits): string {
  const n = text.length;
  // Built by concatenation: V8 keeps it as a rope that JSON.parse flattens once, several times faster than
  // collecting the pieces and joining them when a body holds thousands of IDs.
  let out = '';
  let copiedUpTo = 0;
  // Keys counted so far in each open container; -1 for an array. Only kept when limits are given.
  const open: number[] = [];
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i++;
      while (i < n) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i += 2;
        else if (s === QUOTE) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === MINUS || isDigit(c)) {
      const start = i;
      let digits = c === MINUS ? 0 : 1;
      let integer = true;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (isDigit(d)) digits++;
        else if (isNumberTail(d)) integer = false;
        else break;
      }
      if (integer && digits >= 16) {
        out += `${text.slice(copiedUpTo, start)}"${text.slice(start, i)}"`;
        copiedUpTo = i;
      }
      continue;
    }
    if (limits) {
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        if (open.length >= limits.maxDepth) throw new JsonLimitError(`nested deeper than ${limits.maxDepth} levels`);
        open.push(c === OPEN_OBJECT ? 0 : -1);
      } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        open.pop();
      } else if (c === COLON && open.length > 0) {
        const top = open.length - 1;
        if (open[top]! >= 0 && ++open[top]! > limits.maxKeys) throw new JsonLimitError(`an object has more than ${limits.maxKeys} keys`);
      }
    }
    i++;
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}
