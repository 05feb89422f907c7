// Bodies built to make a parser work hard, for both webhook sources, at any size up to and past the body
// limit: long runs of escapes, deep nesting, long digit runs, many keys, many items. A 256 KB run of `\"`
// once held the event loop for 28 s (a backtracking regular expression); these keep every such shape in the
// fuzz run (0 × 5xx) and give the bench its "longest event-loop block by one webhook" figure.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import type { FuzzCase, FuzzTarget } from './fuzz-bodies.js';

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

/** Repeats `unit` to fill `size` bytes around `head` and `tail`. */
const fill = (head: string, unit: string, tail: string, size: number) => head + unit.repeat(Math.max(0, Math.floor((size - head.length - tail.length) / unit.length))) + tail;
/** As many items as fit in `size` bytes, joined by `sep`. */
const items = (size: number, each: (i: number) => string, sep: string, overhead = 0) => {
  const out: string[] = [];
  for (let used = overhead, i = 0; ; i++) {
    const item = each(i);
    if (used + item.length + sep.length > size) break;
    used += item.length + sep.length;
    out.push(item);
  }
  return out.join(sep);
};
const INVOICE = '"invoice_id":"9834000000123456789"';

type Builder = (size: number, t: FuzzTarget) => string;

/** Zoho bodies (JSON unless the name says form). Each is signed, so the relay parses it rather than refusing it at the signature. */
export const ZOHO_PATHOLOGICAL: Record<string, Builder> = {
  'escape-run': (n) => fill(`{"invoice":{${INVOICE},"notes":"`, '\\"', '"}}', n),
  'escape-run-unterminated': (n) => fill(`{"invoice":{${INVOICE},"notes":"`, '\\"', '', n),
  'backslash-run': (n) => fill(`{"invoice":{${INVOICE},"notes":"`, '\\\\', '"}}', n),
  'deep-nesting': (n) => fill(`{${INVOICE},"x":`, '[', '', n / 2) + ']'.repeat(Math.max(0, Math.floor(n / 2 - 40))) + '}',
  'deep-objects': (n) => fill(`{${INVOICE},"x":`, '{"a":', '', n / 2) + '}'.repeat(Math.max(0, Math.floor(n / 10))),
  'digit-run-id': (n) => fill('{"invoice_id":', '9', '}', n),
  'digit-run-fraction': (n) => fill(`{${INVOICE},"total":0.`, '9', '}', n),
  'digit-run-exponent': (n) => fill(`{${INVOICE},"total":1`, '0', 'e-99999}', n),
  'many-keys': (n) => `{${INVOICE},${items(n, (i) => `"${i.toString(36)}":1`, ',', 40)}}`,
  'many-big-integers': (n) => `{${INVOICE},"x":[${items(n, () => '9834000000123456789', ',', 50)}]}`,
  'many-invoices': (n) => `{"payment":{"invoices":[${items(n, (i) => `{"invoice_id":"${i + 1}"}`, ',', 40)}]}}`,
  'many-strings': (n) => `{${INVOICE},"x":[${items(n, () => '"\\u0041"', ',', 50)}]}`,
  'form-jsonstring-escape-run': (n) => `JSONString=${encodeURIComponent(fill(`{"invoice":{${INVOICE},"notes":"`, '\\"', '"}}', n / 3))}`,
  'form-many-custom-fields': (n) => `invoice_id=1&${items(n, (i) => `cf_${i}=${i}`, '&', 20)}`,
  'form-percent-run': (n) => fill('invoice_id=1&reference_number=', '%25', '', n),
};

/** Kommo bodies (form-encoded, as Kommo sends them), with the right account so they reach the lead parser. */
export const KOMMO_PATHOLOGICAL: Record<string, Builder> = {
  'escape-run-value': (n, t) => fill('leads[status][0][id]=1&leads[status][0][name]=', '%5C%22', `&account[id]=${t.accountId}`, n),
  'percent-run': (n, t) => fill('leads[status][0][id]=1&leads[status][0][name]=', '%25', `&account[id]=${t.accountId}`, n),
  'bracket-run-key': (n, t) => fill('leads', '%5B', `=1&account[id]=${t.accountId}`, n),
  'digit-run-id': (n, t) => fill('leads[status][0][id]=', '9', `&account[id]=${t.accountId}`, n),
  'ampersand-run': (n, t) => fill(`account[id]=${t.accountId}`, '&', '', n),
  'equals-run': (n, t) => fill(`account[id]=${t.accountId}&x`, '=', '', n),
  'many-leads': (n, t) =>
    `${items(n, (i) => `leads[status][${i}][id]=${i + 1}&leads[status][${i}][status_id]=${t.otherStatuses[0]}&leads[status][${i}][pipeline_id]=${t.pipelineId}`, '&', 60)}&account[id]=${t.accountId}`,
  'many-custom-fields': (n, t) => `leads[status][0][id]=1&${items(n, (i) => `leads[status][0][custom_fields][${i}][values][0]=${i}`, '&', 60)}&account[id]=${t.accountId}`,
  'many-indexes': (n, t) => `leads[status][0][id]=1&${items(n, (i) => `x[${9_000_000 - i}]=1`, '&', 60)}&account[id]=${t.accountId}`,
};

/** One pathological request of about `size` bytes. */
export function pathologicalRequest(t: FuzzTarget, source: 'kommo' | 'zoho', name: string, size: number): FuzzCase {
  const build = (source === 'zoho' ? ZOHO_PATHOLOGICAL : KOMMO_PATHOLOGICAL)[name];
  if (!build) throw new Error(`no pathological ${source} body '${name}'`);
  const body = Buffer.from(build(size, t), 'utf8');
  const form = source === 'kommo' || name.startsWith('form-');
  const headers: Record<string, string> = { 'content-type': form ? FORM : JSON_TYPE };
  if (source === 'zoho') headers['x-zoho-webhook-signature'] = createHmac('sha256', t.zohoSigningSecret).update(body).digest('hex');
  return { label: `${source}/pathological/${name}/${Math.round(body.length / 1024)}KB`, method: 'POST', path: `/webhooks/${source}/${t.secret}`, headers, body };
}

/** Any of the above, from 1 KB to just past the 256 KB body limit (a few get 413, as they should). */
export function pathologicalCase(t: FuzzTarget): fc.Arbitrary<FuzzCase> {
  const zoho = Object.keys(ZOHO_PATHOLOGICAL).map((name) => ['zoho', name] as const);
  const kommo = Object.keys(KOMMO_PATHOLOGICAL).map((name) => ['kommo', name] as const);
  const size = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 1024, max: 262_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 255_000, max: 270_000 }) });
  return fc.tuple(fc.constantFrom(...zoho, ...kommo), size).map(([[source, name], n]) => pathologicalRequest(t, source, name, n));
}
