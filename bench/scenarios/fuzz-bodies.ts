// Generated webhook requests for the intake fuzz: valid-shaped Kommo bodies (the sandbox's own encoder) and
// Zoho bodies (record JSON, form, raw), then mutated the ways real traffic and attackers break them —
// truncation, bad percent-encoding, duplicate / deep / huge / prototype keys, wrong types, bytes that are not
// UTF-8, wrong content types and encodings — sent with the right secret, a wrong one, or none.
import { createHmac } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { encodeForm, type Pair } from '../../sandbox/kommo/webhook-encode.js';
import { pathologicalCase } from './pathological.js';

export interface FuzzTarget {
  secret: string;
  zohoSigningSecret: string;
  accountId: number;
  subdomain: string;
  pipelineId: number;
  /** Statuses that trigger work (invoice, retainer) and some that do not. */
  triggerStatuses: number[];
  otherStatuses: number[];
}

export interface FuzzCase {
  /** What was generated and how it was mutated, e.g. 'kommo/deep-key/form'. */
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

const FORM = 'application/x-www-form-urlencoded';

// ----- Kommo -----

const text = (maxLength = 30) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 1, arbitrary: fc.constantFrom('Аудит сайта + SEO', 'Ромашка «ООО»', '€ 1.234,50', '🚀 launch', 'a&b=c', '%41%', '+ +', '') },
  );

const idText = fc.oneof(
  // Rare per field, but a body has many ID fields: about one body in four gets at least one wrong.
  { weight: 60, arbitrary: fc.integer({ min: 1, max: 2 ** 31 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('0', '-1', '1.5', '1e3', '0x10', ' 7', '99999999999999999999', '9007199254740993', '', 'abc', 'null') },
);

function leadPairs(t: FuzzTarget, prefix: string) {
  return fc
    .record({
      id: idText,
      name: text(),
      statusId: fc.constantFrom(...t.triggerStatuses, ...t.otherStatuses, 142, 143),
      pipelineId: fc.oneof({ weight: 5, arbitrary: fc.constant(t.pipelineId) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 9_999_999 }) }),
      lastModified: fc.option(fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }), { freq: 8 }),
      price: fc.oneof(fc.nat().map(String), text(8)),
      fields: fc.array(
        fc.record({ id: idText, name: text(), values: fc.array(fc.record({ value: text(), enumId: fc.option(idText) }), { maxLength: 3 }), bareDate: fc.boolean() }),
        { maxLength: 30 },
      ),
      tags: fc.array(fc.record({ id: idText, name: text(12) }), { maxLength: 3 }),
    })
    .map((l): Pair[] => {
      const pairs: Pair[] = [
        [`${prefix}[id]`, l.id],
        [`${prefix}[name]`, l.name],
        [`${prefix}[status_id]`, String(l.statusId)],
        [`${prefix}[pipeline_id]`, String(l.pipelineId)],
        [`${prefix}[price]`, l.price],
      ];
      if (l.lastModified !== null) pairs.push([`${prefix}[last_modified]`, String(l.lastModified)]);
      l.tags.forEach((tag, i) => pairs.push([`${prefix}[tags][${i}][id]`, tag.id], [`${prefix}[tags][${i}][name]`, tag.name]));
      l.fields.forEach((f, i) => {
        const c = `${prefix}[custom_fields][${i}]`;
        pairs.push([`${c}[id]`, f.id], [`${c}[name]`, f.name]);
        f.values.forEach((v, j) => {
          if (f.bareDate) pairs.push([`${c}[values][${j}]`, v.value]);
          else {
            pairs.push([`${c}[values][${j}][value]`, v.value]);
            if (v.enumId !== null) pairs.push([`${c}[values][${j}][enum]`, v.enumId]);
          }
        });
      });
      return pairs;
    });
}

/** A Kommo webhook body as pairs: one or more actions with one or more leads each, an account, maybe other entities. */
export function kommoPairs(t: FuzzTarget): fc.Arbitrary<Pair[]> {
  const action = fc.constantFrom('status', 'add', 'update', 'delete', 'note', 'restore', 'responsible');
  const actions = fc.uniqueArray(fc.tuple(action, fc.integer({ min: 1, max: 4 })), { selector: ([a]) => a, minLength: 0, maxLength: 3 });
  const account = fc.oneof(
    { weight: 12, arbitrary: fc.constant<Pair[]>([['account[subdomain]', t.subdomain], ['account[id]', String(t.accountId)]]) },
    { weight: 1, arbitrary: fc.constant<Pair[]>([['account[id]', String(t.accountId)]]) },
    { weight: 1, arbitrary: fc.constant<Pair[]>([['account[subdomain]', t.subdomain.toUpperCase()]]) },
    { weight: 1, arbitrary: fc.constant<Pair[]>([]) },
    { weight: 1, arbitrary: idText.map((id): Pair[] => [['account[subdomain]', t.subdomain], ['account[id]', id]]) },
    { weight: 1, arbitrary: text(12).map((sub): Pair[] => [['account[subdomain]', sub], ['account[id]', String(t.accountId)]]) },
  );
  const others = fc.array(fc.tuple(fc.constantFrom('contacts', 'companies', 'unsorted', 'task', 'talk', 'message'), fc.constantFrom('add', 'update', 'delete'), idText), { maxLength: 2 });
  return fc
    .tuple(actions, account, others)
    .chain(([acts, acc, oth]) =>
      fc.tuple(...acts.map(([a, n]) => fc.tuple(...Array.from({ length: n }, (_, i) => leadPairs(t, `leads[${a}][${i}]`))).map((ls) => ls.flat()))).map((leads) => [
        ...leads.flat(),
        ...oth.map(([e, a, id], i): Pair => [`${e}[${a}][${i}][id]`, id]),
        ...acc,
      ]),
    );
}

const BAD_ESCAPES = ['%', '%G', '%zz', '%4', '%E2%82', '%FF', '%C3%28', '%ED%A0%80', '%F4%90%80%80', '%C0%AF', '%00'];
const PROTOTYPE_PAIRS = [
  '__proto__[polluted]=1',
  '__proto__=1',
  'leads[__proto__][polluted]=1',
  'leads[status][__proto__][id]=1',
  'leads[status][0][__proto__]=1',
  'constructor[prototype][polluted]=1',
  'account[constructor][prototype]=1',
  'account[__proto__][id]=1',
  'toString=1',
  'hasOwnProperty=1',
  'leads[hasOwnProperty]=1',
  'leads[status][0][custom_fields][__proto__][values]=1',
  'valueOf[]=1',
];
const FLATTENED = ['leads=1', 'leads[status]=x', 'leads[status][0]=x', 'account=1', 'account[id][x]=1', 'leads[]=1', 'leads[status][]=1', 'leads[status][0][id][]=1', '=1', '[a]=1', 'a]=1', 'a[b=1', 'a[b]c=1'];
const WRONG_VALUES = ['', 'abc', '-1', '1.5', '1e3', '99999999999999999999999', '0x10', ' 1', 'null', '[]', '{}', '%00', '\u0000', 'true'];

type Mutation = (form: string, r: () => number) => Buffer;
const at = (s: string, r: () => number) => Math.floor(r() * (s.length + 1));
const utf8 = (s: string) => Buffer.from(s, 'utf8');
const pairsOf = (form: string) => (form ? form.split('&') : []);
const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)]!;

/** Every way a form body is broken here; each takes the valid form and a source of randomness. */
export const KOMMO_MUTATIONS: Record<string, Mutation> = {
  none: (f) => utf8(f),
  truncate: (f, r) => utf8(f.slice(0, at(f, r))),
  'bad-percent': (f, r) => {
    const i = at(f, r);
    return utf8(f.slice(0, i) + pick(BAD_ESCAPES, r) + f.slice(i));
  },
  'duplicate-pair': (f, r) => {
    const pairs = pairsOf(f);
    return utf8(pairs.length ? `${f}&${pick(pairs, r)}` : 'a=1&a=1');
  },
  'deep-key': (f, r) => utf8(`${f}&${encodeURIComponent(`leads[status][0]${'[x]'.repeat(5 + Math.floor(r() * 40))}`)}=1`),
  'huge-key': (f, r) => utf8(`${f}&${'k'.repeat(1000 + Math.floor(r() * 300_000))}=1`),
  'huge-value': (f, r) => utf8(`${f}&leads[status][0][name]=${'v'.repeat(1000 + Math.floor(r() * 300_000))}`),
  'many-params': (f, r) => utf8(`${f}&${Array.from({ length: 4990 + Math.floor(r() * 600) }, (_, i) => `p${i}=1`).join('&')}`),
  prototype: (f, r) => utf8(`${f}&${pick(PROTOTYPE_PAIRS, r)}`),
  'prototype-first': (f, r) => utf8(`${pick(PROTOTYPE_PAIRS, r)}&${f}`),
  'wrong-type': (f, r) => {
    const pairs = pairsOf(f);
    if (!pairs.length) return utf8(pick(FLATTENED, r));
    const i = Math.floor(r() * pairs.length);
    pairs[i] = `${pairs[i]!.split('=')[0]}=${encodeURIComponent(pick(WRONG_VALUES, r))}`;
    return utf8(pairs.join('&'));
  },
  flattened: (f, r) => utf8(`${f}&${pick(FLATTENED, r)}`),
  'non-utf8': (f, r) => {
    const raw = utf8(f);
    const i = Math.floor(r() * (raw.length + 1));
    return Buffer.concat([raw.subarray(0, i), Buffer.from(pick([[0xff, 0xfe], [0xc3], [0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0x00]], r)), raw.subarray(i)]);
  },
  latin1: (f) => Buffer.from(decodeURIComponentSafe(f), 'latin1'),
  'not-encoded': (f) => utf8(decodeURIComponentSafe(f)),
  separators: (f, r) => utf8(f.replaceAll('&', pick([';', '&&', '&amp;', '\n', '&=&'], r))),
  'array-push': (f) => utf8(f.replace(/leads%5B(\w+)%5D%5B\d+%5D/, 'leads%5B$1%5D%5B%5D')),
  'big-index': (f, r) => utf8(f.replace(/%5B0%5D/, `%5B${pick(['99999999999999999999', '-1', '01', '1.0', ' 0'], r)}%5D`)),
  empty: () => Buffer.alloc(0),
};

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s.replaceAll('+', ' '));
  } catch {
    return s;
  }
}

// ----- Zoho -----

const zohoId = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[1-9]\d{0,18}$/) },
  { weight: 1, arbitrary: fc.constantFrom('0', '1e25', '-5', ' 123', '123abc', '', '1234567890123456789012345678') },
  { weight: 1, arbitrary: fc.jsonValue() },
);

/** A Zoho workflow webhook body as a JSON value: the record shapes the relay reads, with anything in their fields. */
export function zohoJson(): fc.Arbitrary<unknown> {
  const invoice = fc.record(
    { invoice_id: zohoId, last_modified_time: fc.oneof(fc.constant('2026-11-20T10:15:00+0100'), fc.jsonValue()), status: fc.constantFrom('paid', 'partially_paid', 'sent'), total: fc.double(), reference_number: text(20) },
    { requiredKeys: [] },
  );
  const anything = fc.jsonValue();
  return fc.oneof(
    { weight: 6, arbitrary: invoice.map((i) => ({ invoice: i })) },
    { weight: 2, arbitrary: fc.record({ invoice_id: zohoId }) },
    { weight: 2, arbitrary: fc.record({ data: fc.oneof(invoice.map((i) => ({ invoice: i })), anything) }) },
    { weight: 2, arbitrary: fc.record({ payment: fc.oneof(fc.record({ invoices: fc.array(fc.oneof(fc.record({ invoice_id: zohoId }), anything), { maxLength: 3 }) }), fc.record({ invoices: anything }), anything) }) },
    { weight: 1, arbitrary: fc.record({ customerpayment: fc.oneof(fc.record({ invoices: fc.array(fc.record({ invoice_id: zohoId }), { maxLength: 3 }) }), anything) }) },
    { weight: 1, arbitrary: fc.record({ invoice: anything }) },
    { weight: 2, arbitrary: anything },
    // JSON.parse makes "__proto__" an own key (an object literal would set the prototype instead).
    { weight: 1, arbitrary: fc.tuple(invoice, zohoId).map(([i, id]) => JSON.parse(`{"__proto__": ${JSON.stringify(i)}, "constructor": {"prototype": {"invoice_id": ${JSON.stringify(id)}}}}`) as unknown) },
  );
}

// ----- Requests -----

const KOMMO_CONTENT_TYPES = [FORM, FORM, FORM, FORM, `${FORM}; charset=UTF-8`, `${FORM}; charset=koi8-r`, `${FORM}; charset=bogus-8`, 'text/plain', 'application/json', 'multipart/form-data; boundary=x', ''];
const ZOHO_CONTENT_TYPES = ['application/json', 'application/json', 'application/json; charset=utf-8', FORM, 'text/plain', 'application/xml', 'text/html', ''];

/** How the URL secret is presented: right (mostly), wrong, missing, malformed. */
function pathFor(source: string, secret: string, variant: number): { path: string; label: string } {
  const variants: Array<[string, string]> = [
    [`/webhooks/${source}/${secret}`, 'secret'],
    [`/webhooks/${source}/${secret}?x=1&secret=${secret}`, 'secret+query'],
    [`/webhooks/${source}/wrong-${secret}`, 'wrong-secret'],
    [`/webhooks/${source}/${secret.slice(0, -1)}`, 'short-secret'],
    [`/webhooks/${source}/`, 'no-secret'],
    [`/webhooks/${source}`, 'no-secret'],
    [`/webhooks/${source}/%zz`, 'bad-escape-secret'],
    [`/webhooks/${source}/${'s'.repeat(5000)}`, 'long-secret'],
    [`/webhooks/${source}/${encodeURIComponent(secret)}%2F..`, 'traversal'],
    [`/webhooks/${source}/${secret}/extra`, 'extra-segment'],
  ];
  // Nine in ten carry the right secret, so the body is what gets tested.
  const [path, label] = variant < 0.9 ? variants[0]! : variant < 0.92 ? variants[1]! : variants[2 + Math.floor(((variant - 0.92) / 0.08) * (variants.length - 2))]!;
  return { path, label };
}

/** A number in [0, 1) drawn by fast-check (so it replays and shrinks), biased towards 0: the usual case. */
const share = fc.nat({ max: 9999 }).map((n) => n / 10_000);

const seeded = (n: number) => {
  let a = n >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

function encoded(body: Buffer, how: number): { body: Buffer; headers: Record<string, string>; label: string } {
  if (how < 0.96) return { body, headers: {}, label: '' };
  if (how < 0.98) return { body: gzipSync(body), headers: { 'content-encoding': 'gzip' }, label: '+gzip' };
  if (how < 0.99) return { body, headers: { 'content-encoding': 'gzip' }, label: '+bad-gzip' };
  return { body, headers: { 'content-encoding': 'x-unknown' }, label: '+unknown-encoding' };
}

export function kommoCase(t: FuzzTarget): fc.Arbitrary<FuzzCase> {
  const names = Object.keys(KOMMO_MUTATIONS);
  // Half of the bodies valid-shaped as they come, half mutated one way.
  const mutation = fc.oneof({ weight: 1, arbitrary: fc.constant('none') }, { weight: 1, arbitrary: fc.constantFrom(...names) });
  const method = fc.oneof({ weight: 38, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('PUT', 'GET', 'PATCH', 'DELETE') });
  return fc.record({ pairs: kommoPairs(t), mutation, seed: fc.integer(), secret: share, ct: fc.constantFrom(...KOMMO_CONTENT_TYPES), enc: share, method }).map((c) => {
    const raw = KOMMO_MUTATIONS[c.mutation]!(encodeForm(c.pairs), seeded(c.seed));
    const { path, label } = pathFor('kommo', t.secret, c.secret);
    const e = encoded(raw, c.enc);
    return {
      label: `kommo/${c.mutation}/${label}/${c.ct || 'no-type'}${e.label}${c.method === 'POST' ? '' : `/${c.method}`}`,
      method: c.method,
      path,
      headers: { ...(c.ct ? { 'content-type': c.ct } : {}), ...e.headers },
      body: c.method === 'GET' ? Buffer.alloc(0) : e.body,
    };
  });
}

export function zohoCase(t: FuzzTarget): fc.Arbitrary<FuzzCase> {
  const body = fc.oneof(
    { weight: 6, arbitrary: zohoJson().map((j) => ({ kind: 'json', text: JSON.stringify(j) ?? 'undefined' })) },
    { weight: 1, arbitrary: zohoId.map((id) => ({ kind: 'form', text: `invoice_id=${encodeURIComponent(String(id))}` })) },
    { weight: 1, arbitrary: zohoJson().map((j) => ({ kind: 'form-jsonstring', text: `JSONString=${encodeURIComponent(JSON.stringify(j) ?? '')}` })) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 200 }).map((s) => ({ kind: 'raw', text: s })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => ({ kind: 'bytes', text: Buffer.from(b).toString('latin1') })) },
  );
  const signing = fc.constantFrom('signed', 'signed', 'signed', 'signed', 'signed', 'signed', 'sha256=', 'unsigned', 'wrong', 'empty');
  return fc
    .record({ body, truncate: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat() }), signing, ct: fc.constantFrom(...ZOHO_CONTENT_TYPES), secret: share })
    .map((c) => {
      const text = c.truncate === null ? c.body.text : c.body.text.slice(0, c.truncate % (c.body.text.length + 1));
      const raw = c.body.kind === 'bytes' ? Buffer.from(text, 'latin1') : utf8(text);
      const mac = createHmac('sha256', t.zohoSigningSecret).update(raw).digest('hex');
      const signature = { signed: mac, 'sha256=': `sha256=${mac.toUpperCase()}`, unsigned: undefined, wrong: mac.replace(/^./, (d) => (d === '0' ? '1' : '0')), empty: '' }[c.signing];
      const { path, label } = pathFor('zoho', t.secret, c.secret);
      return {
        label: `zoho/${c.body.kind}${c.truncate === null ? '' : '/truncated'}/${c.signing}/${label}/${c.ct || 'no-type'}`,
        method: 'POST',
        path,
        headers: { ...(c.ct ? { 'content-type': c.ct } : {}), ...(signature !== undefined ? { 'x-zoho-webhook-signature': signature } : {}) },
        body: raw,
      };
    });
}

/** Two Kommo requests for every Zoho one, as in a busy account; one in about 13 built to make a parser work hard. */
export function webhookCase(t: FuzzTarget): fc.Arbitrary<FuzzCase> {
  return fc.oneof({ weight: 8, arbitrary: kommoCase(t) }, { weight: 4, arbitrary: zohoCase(t) }, { weight: 1, arbitrary: pathologicalCase(t) });
}
