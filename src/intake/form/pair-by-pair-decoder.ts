// The pair-by-pair road of the form decoder: each pair split, decoded with `decodeURIComponent` and its key
// parsed on its own. Every body the one-pass road declines comes here, so this is where each error is found
// and worded: the first one in the body, naming the field by its number and, where it helps, its name.
import { quote, WebhookParseError } from './parse-error.js';
import type { FormBuilder } from './tree-builder.js';

export function addFieldsOneByOne(form: FormBuilder, body: string, maxParams: number, maxDepth: number): void {
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
