import { describe, expect, it } from 'vitest';
import { parseNestedForm, WebhookParseError, type NestedForm } from '../../src/intake/form/nested-form.js';
import { parseKommoWebhook, type KommoLeadEvent, type KommoWebhook } from '../../src/intake/kommo-parse.js';

/** Builds a body exactly as on the wire: encodeURIComponent on key and value, joined with = and &. */
function wire(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** Runs fn, expects a WebhookParseError, returns it for further assertions. */
function parseError(fn: () => unknown): WebhookParseError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookParseError);
    return err as WebhookParseError;
  }
  throw new Error('expected a WebhookParseError, nothing was thrown');
}

/** A plain-object copy (the parser returns null-prototype objects). */
function plain(form: NestedForm): unknown {
  return JSON.parse(JSON.stringify(form)) as unknown;
}

function lead(action: string, leadId: number, extra: Partial<KommoLeadEvent> = {}): KommoLeadEvent {
  return { action, leadId, customFields: [], tags: [], ...extra };
}

// The decoded example of shared/reference/kommo.md, completed with a second lead.
const EXAMPLE_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['leads[status][0][id]', '31700125'],
  ['leads[status][0][name]', 'Аудит сайта + SEO'],
  ['leads[status][0][status_id]', '61234570'],
  ['leads[status][0][old_status_id]', '61234566'],
  ['leads[status][0][price]', '4800'],
  ['leads[status][0][responsible_user_id]', '9051221'],
  ['leads[status][0][last_modified]', '1764000000'],
  ['leads[status][0][modified_user_id]', '9051221'],
  ['leads[status][0][created_user_id]', '9051221'],
  ['leads[status][0][date_create]', '1763900000'],
  ['leads[status][0][pipeline_id]', '7710021'],
  ['leads[status][0][account_id]', '30011223'],
  ['leads[status][0][tags][0][id]', '80147'],
  ['leads[status][0][tags][0][name]', 'retainer'],
  ['leads[status][0][custom_fields][0][id]', '66339'],
  ['leads[status][0][custom_fields][0][name]', 'Source'],
  ['leads[status][0][custom_fields][0][values][0][value]', 'Website'],
  ['leads[status][0][custom_fields][0][values][0][enum]', '139517'],
  ['leads[status][0][custom_fields][1][id]', '72333'],
  ['leads[status][0][custom_fields][1][name]', 'Start date'],
  ['leads[status][0][custom_fields][1][values][0]', '1764028800'],
  ['leads[status][1][id]', '31700126'],
  ['leads[status][1][name]', 'Second deal'],
  ['leads[status][1][status_id]', '142'],
  ['leads[status][1][old_status_id]', '61234570'],
  ['leads[status][1][pipeline_id]', '7710021'],
  ['leads[status][1][old_pipeline_id]', '7710020'],
  ['leads[status][1][price]', '0'],
  ['leads[status][1][last_modified]', '1764000001'],
  ['leads[status][1][account_id]', '30011223'],
  ['account[subdomain]', 'acme'],
  ['account[id]', '30011223'],
];

const EXAMPLE_EXPECTED: KommoWebhook = {
  account: { id: 30011223, subdomain: 'acme' },
  leadEvents: [
    lead('status', 31700125, {
      name: 'Аудит сайта + SEO',
      statusId: 61234570,
      oldStatusId: 61234566,
      price: '4800',
      lastModified: 1764000000,
      pipelineId: 7710021,
      accountId: 30011223,
      tags: [{ id: 80147, name: 'retainer' }],
      customFields: [
        { id: 66339, name: 'Source', values: [{ value: 'Website', enum: '139517' }] },
        { id: 72333, name: 'Start date', values: [{ value: '1764028800' }] },
      ],
    }),
    lead('status', 31700126, {
      name: 'Second deal',
      statusId: 142,
      oldStatusId: 61234570,
      pipelineId: 7710021,
      oldPipelineId: 7710020,
      price: '0',
      lastModified: 1764000001,
      accountId: 30011223,
    }),
  ],
  otherItems: 0,
};

describe('wire helper', () => {
  it('encodes brackets and values the way Kommo sends them', () => {
    expect(wire([['leads[status][0][id]', '31700125']])).toBe('leads%5Bstatus%5D%5B0%5D%5Bid%5D=31700125');
  });
});

describe('parseKommoWebhook: the kommo.md example', () => {
  it('parses every field of both leads from a helper-built body', () => {
    expect(parseKommoWebhook(wire(EXAMPLE_PAIRS))).toEqual(EXAMPLE_EXPECTED);
  });

  it('parses a literal wire string copied character for character', () => {
    const body =
      'leads%5Bstatus%5D%5B0%5D%5Bid%5D=31700125' +
      '&leads%5Bstatus%5D%5B0%5D%5Bname%5D=%D0%90%D1%83%D0%B4%D0%B8%D1%82+%D1%81%D0%B0%D0%B9%D1%82%D0%B0+%2B+SEO' +
      '&leads%5Bstatus%5D%5B0%5D%5Bstatus_id%5D=61234570' +
      '&leads%5Bstatus%5D%5B0%5D%5Bold_status_id%5D=61234566' +
      '&leads%5Bstatus%5D%5B0%5D%5Bprice%5D=4800' +
      '&leads%5Bstatus%5D%5B0%5D%5Blast_modified%5D=1764000000' +
      '&leads%5Bstatus%5D%5B0%5D%5Bpipeline_id%5D=7710021' +
      '&leads%5Bstatus%5D%5B0%5D%5Baccount_id%5D=30011223' +
      '&leads%5Bstatus%5D%5B0%5D%5Btags%5D%5B0%5D%5Bid%5D=80147' +
      '&leads%5Bstatus%5D%5B0%5D%5Btags%5D%5B0%5D%5Bname%5D=retainer' +
      '&leads%5Bstatus%5D%5B0%5D%5Bcustom_fields%5D%5B0%5D%5Bid%5D=66339' +
      '&leads%5Bstatus%5D%5B0%5D%5Bcustom_fields%5D%5B0%5D%5Bname%5D=Source' +
      '&leads%5Bstatus%5D%5B0%5D%5Bcustom_fields%5D%5B0%5D%5Bvalues%5D%5B0%5D%5Bvalue%5D=Website' +
      '&leads%5Bstatus%5D%5B0%5D%5Bcustom_fields%5D%5B0%5D%5Bvalues%5D%5B0%5D%5Benum%5D=139517' +
      '&leads%5Bstatus%5D%5B0%5D%5Bcustom_fields%5D%5B1%5D%5Bid%5D=72333' +
      '&leads%5Bstatus%5D%5B0%5D%5Bcustom_fields%5D%5B1%5D%5Bname%5D=Start+date' +
      '&leads%5Bstatus%5D%5B0%5D%5Bcustom_fields%5D%5B1%5D%5Bvalues%5D%5B0%5D=1764028800' +
      '&leads%5Bstatus%5D%5B1%5D%5Bid%5D=31700126' +
      '&leads%5Bstatus%5D%5B1%5D%5Bstatus_id%5D=142' +
      '&account%5Bsubdomain%5D=acme' +
      '&account%5Bid%5D=30011223';
    expect(parseKommoWebhook(body)).toEqual({
      account: { id: 30011223, subdomain: 'acme' },
      leadEvents: [
        lead('status', 31700125, {
          name: 'Аудит сайта + SEO',
          statusId: 61234570,
          oldStatusId: 61234566,
          price: '4800',
          lastModified: 1764000000,
          pipelineId: 7710021,
          accountId: 30011223,
          tags: [{ id: 80147, name: 'retainer' }],
          customFields: [
            { id: 66339, name: 'Source', values: [{ value: 'Website', enum: '139517' }] },
            { id: 72333, name: 'Start date', values: [{ value: '1764028800' }] },
          ],
        }),
        lead('status', 31700126, { statusId: 142 }),
      ],
      otherItems: 0,
    });
  });

  it('accepts unencoded brackets too (same result)', () => {
    const body = EXAMPLE_PAIRS.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    expect(parseKommoWebhook(body)).toEqual(EXAMPLE_EXPECTED);
  });
});

describe('parseKommoWebhook: several actions and entities', () => {
  it('keeps actions in body order and items in numeric order', () => {
    const body = wire([
      ['leads[add][0][id]', '100'],
      ['leads[add][0][status_id]', '1'],
      ['leads[status][1][id]', '201'],
      ['leads[status][0][id]', '200'],
      ['leads[status][0][old_status_id]', '5'],
      ['leads[delete][0][id]', '300'],
      ['leads[delete][0][pipeline_id]', '77'],
      ['leads[update][0][id]', '400'],
      ['leads[update][0][updated_at]', '1764000123'],
      ['leads[status][2][id]', '202'],
      ['account[subdomain]', 'acme'],
    ]);
    const parsed = parseKommoWebhook(body);
    expect(parsed.leadEvents.map((e) => [e.action, e.leadId])).toEqual([
      ['add', 100],
      ['status', 200],
      ['status', 201],
      ['status', 202],
      ['delete', 300],
      ['update', 400],
    ]);
    expect(parsed.leadEvents).toEqual([
      lead('add', 100, { statusId: 1 }),
      lead('status', 200, { oldStatusId: 5 }),
      lead('status', 201),
      lead('status', 202),
      lead('delete', 300, { pipelineId: 77 }),
      lead('update', 400, { lastModified: 1764000123 }),
    ]);
    expect(parsed.account).toEqual({ subdomain: 'acme' });
    expect(parsed.otherItems).toBe(0);
  });

  it('orders indexes 0..11 numerically whatever the body order', () => {
    const order = [11, 3, 10, 0, 9, 1, 2, 8, 4, 7, 5, 6];
    const body = wire(order.map((i) => [`leads[update][${i}][id]`, String(1000 + i)] as const));
    expect(parseKommoWebhook(body).leadEvents.map((e) => e.leadId)).toEqual(
      Array.from({ length: 12 }, (_, i) => 1000 + i),
    );
  });

  it('sorts indexes numerically even beyond the engine array-index range (2^32)', () => {
    const body = wire([
      ['leads[update][10000000000][id]', '3'],
      ['leads[update][9999999999][id]', '2'],
      ['leads[update][5][id]', '1'],
    ]);
    expect(parseKommoWebhook(body).leadEvents.map((e) => e.leadId)).toEqual([1, 2, 3]);
  });

  it('counts contacts, companies and unsorted items in otherItems and makes no events of them', () => {
    const body = wire([
      ['contacts[update][0][id]', '501'],
      ['contacts[update][0][name]', 'Иван'],
      ['contacts[update][1][id]', '502'],
      ['leads[status][0][id]', '31700125'],
      ['contacts[add][0][id]', '503'],
      ['companies[update][0][id]', '601'],
      ['unsorted[add][0][uid]', 'abc'],
      ['unsorted[add][0][source_data][from]', 'form'],
      ['account[id]', '30011223'],
    ]);
    expect(parseKommoWebhook(body)).toEqual({
      account: { id: 30011223 },
      leadEvents: [lead('status', 31700125)],
      otherItems: 5,
    });
  });

  it('takes a note item lead id from [note][element_id] when [id] is absent', () => {
    const body = wire([
      ['leads[note][0][note][id]', '999001'],
      ['leads[note][0][note][element_id]', '31700125'],
      ['leads[note][0][note][element_type]', '2'],
      ['leads[note][0][note][text]', 'Позвонить'],
      ['leads[note][0][account_id]', '30011223'],
    ]);
    expect(parseKommoWebhook(body).leadEvents).toEqual([lead('note', 31700125, { accountId: 30011223 })]);
  });

  it('prefers [last_modified] over [updated_at]', () => {
    const body = wire([
      ['leads[update][0][id]', '1'],
      ['leads[update][0][updated_at]', '200'],
      ['leads[update][0][last_modified]', '100'],
    ]);
    expect(parseKommoWebhook(body).leadEvents[0]?.lastModified).toBe(100);
  });

  it('returns no events for an empty body', () => {
    expect(parseKommoWebhook('')).toEqual({ account: {}, leadEvents: [], otherItems: 0 });
    expect(parseKommoWebhook('&&&')).toEqual({ account: {}, leadEvents: [], otherItems: 0 });
  });

  it('accepts an empty [tags] / [custom_fields] scalar as an empty list', () => {
    const body = wire([
      ['leads[add][0][id]', '1'],
      ['leads[add][0][tags]', ''],
      ['leads[add][0][custom_fields]', ''],
    ]);
    expect(parseKommoWebhook(body).leadEvents).toEqual([lead('add', 1)]);
  });
});

describe('parseKommoWebhook: custom fields', () => {
  it.each([25, 100])('parses a lead with %i custom fields completely, in index order', (count) => {
    const pairs: Array<[string, string]> = [['leads[update][0][id]', '42']];
    // Emit them in reverse so ordering is by index, not by body position.
    for (let i = count - 1; i >= 0; i -= 1) {
      pairs.push([`leads[update][0][custom_fields][${i}][id]`, String(70000 + i)]);
      pairs.push([`leads[update][0][custom_fields][${i}][name]`, `Field ${i}`]);
      pairs.push([`leads[update][0][custom_fields][${i}][values][0][value]`, `v${i}`]);
    }
    const [event] = parseKommoWebhook(wire(pairs)).leadEvents;
    expect(event?.customFields).toHaveLength(count);
    expect(event?.customFields).toEqual(
      Array.from({ length: count }, (_, i) => ({ id: 70000 + i, name: `Field ${i}`, values: [{ value: `v${i}` }] })),
    );
  });

  it('handles value/enum objects, scalar dates, codes and several values', () => {
    const body = wire([
      ['leads[add][0][id]', '1'],
      ['leads[add][0][custom_fields][0][id]', '10'],
      ['leads[add][0][custom_fields][0][code]', 'PHONE'],
      ['leads[add][0][custom_fields][0][values][0][value]', '+7 999 000-00-00'],
      ['leads[add][0][custom_fields][0][values][0][enum]', 'WORK'],
      ['leads[add][0][custom_fields][0][values][1][value]', '+7 999 111-11-11'],
      ['leads[add][0][custom_fields][0][values][1][enum]', 'MOB'],
      ['leads[add][0][custom_fields][1][id]', '11'],
      ['leads[add][0][custom_fields][1][values][0]', '1542067200'],
      ['leads[add][0][custom_fields][2][id]', '12'],
      ['leads[add][0][custom_fields][2][values][0][enum]', '139517'],
      ['leads[add][0][custom_fields][3][id]', '13'],
    ]);
    expect(parseKommoWebhook(body).leadEvents[0]?.customFields).toEqual([
      {
        id: 10,
        code: 'PHONE',
        values: [
          { value: '+7 999 000-00-00', enum: 'WORK' },
          { value: '+7 999 111-11-11', enum: 'MOB' },
        ],
      },
      { id: 11, values: [{ value: '1542067200' }] },
      { id: 12, values: [{ enum: '139517' }] },
      { id: 13, values: [] },
    ]);
  });

  it('keeps tags in index order, with optional id and name', () => {
    const body = wire([
      ['leads[add][0][id]', '1'],
      ['leads[add][0][tags][1][name]', 'second'],
      ['leads[add][0][tags][0][id]', '5'],
      ['leads[add][0][tags][0][name]', 'first'],
      ['leads[add][0][tags][2][id]', '7'],
    ]);
    expect(parseKommoWebhook(body).leadEvents[0]?.tags).toEqual([
      { id: 5, name: 'first' },
      { name: 'second' },
      { id: 7 },
    ]);
  });
});

describe('decoding', () => {
  it.each([
    ['Cyrillic and emoji with an encoded +', 'Аудит сайта + SEO 🚀', wire([['leads[add][0][name]', 'Аудит сайта + SEO 🚀']])],
    [
      'literal wire: %2B is a plus, + is a space',
      'Аудит сайта + SEO 🚀',
      'leads[add][0][name]=%D0%90%D1%83%D0%B4%D0%B8%D1%82+%D1%81%D0%B0%D0%B9%D1%82%D0%B0+%2B+SEO+%F0%9F%9A%80',
    ],
    ['+ meaning space', 'Start date today', 'leads[add][0][name]=Start+date+today'],
    ['lowercase hex', 'é', 'leads[add][0][name]=%c3%a9'],
    ['= and & inside the value', 'a=b&c=d', wire([['leads[add][0][name]', 'a=b&c=d']])],
    ['% inside the value', '100% done', wire([['leads[add][0][name]', '100% done']])],
    ['a raw = after the first one', 'x=y', 'leads[add][0][name]=x=y'],
    ['empty value', '', 'leads[add][0][name]='],
    ['no = at all', '', 'leads[add][0][name]'],
  ])('%s', (_label, expected, body) => {
    const event = parseKommoWebhook(`${body}&leads[add][0][id]=1`).leadEvents[0];
    expect(event?.name).toBe(expected);
  });

  it('round-trips exotic text through the wire helper', () => {
    const samples = ['Аудит сайта + SEO 🚀', '日本語', '👩‍👩‍👧 family', 'tab\there', 'new\nline', "quote'\"", '[not a key]'];
    for (const text of samples) {
      expect(parseNestedForm(wire([['k', text]]))['k']).toBe(text);
    }
  });

  it('decodes = and & encoded in values without splitting the pair', () => {
    const body = wire([
      ['leads[add][0][id]', '1'],
      ['leads[add][0][price]', '4800&status_id=142'],
      ['leads[add][0][custom_fields][0][id]', '9'],
      ['leads[add][0][custom_fields][0][values][0][value]', 'https://x.test/?a=1&b=2'],
    ]);
    expect(body).not.toContain('&status_id=');
    expect(parseKommoWebhook(body).leadEvents).toEqual([
      lead('add', 1, {
        price: '4800&status_id=142',
        customFields: [{ id: 9, values: [{ value: 'https://x.test/?a=1&b=2' }] }],
      }),
    ]);
  });
});

describe('parseNestedForm', () => {
  it('nests bracket segments and keeps numeric keys as string keys', () => {
    const form = parseNestedForm('a[b][0]=x&a[b][1]=y&a[c]=z&top=1');
    expect(plain(form)).toEqual({ a: { b: { '0': 'x', '1': 'y' }, c: 'z' }, top: '1' });
    const b = (form['a'] as NestedForm)['b'];
    expect(Array.isArray(b)).toBe(false);
  });

  it('does not cap numeric keys at 20 like qs arrayLimit', () => {
    const body = Array.from({ length: 30 }, (_, i) => `a[${i}]=${i}`).join('&');
    const a = parseNestedForm(body)['a'] as NestedForm;
    expect(Object.keys(a)).toHaveLength(30);
    expect(a['29']).toBe('29');
  });

  it('appends [] with keys 0, 1, ...', () => {
    expect(plain(parseNestedForm('a[]=1&a[]=2'))).toEqual({ a: { '0': '1', '1': '2' } });
    expect(plain(parseNestedForm('a[5]=x&a[]=y'))).toEqual({ a: { '5': 'x', '6': 'y' } });
    expect(plain(parseNestedForm('a[][b]=1&a[][b]=2'))).toEqual({ a: { '0': { b: '1' }, '1': { b: '2' } } });
  });

  it('skips empty pairs', () => {
    expect(plain(parseNestedForm('&&a=1&&&b=2&'))).toEqual({ a: '1', b: '2' });
    expect(plain(parseNestedForm(''))).toEqual({});
  });

  it('returns null-prototype objects', () => {
    const form = parseNestedForm('a[b]=1');
    expect(Object.getPrototypeOf(form)).toBeNull();
    expect(Object.getPrototypeOf(form['a'])).toBeNull();
  });

  it('accepts exactly maxParams pairs and exactly maxDepth levels', () => {
    expect(Object.keys(parseNestedForm('a=1&b=2&c=3', { maxParams: 3 }))).toEqual(['a', 'b', 'c']);
    expect(plain(parseNestedForm('a[1][2]=x', { maxDepth: 2 }))).toEqual({ a: { '1': { '2': 'x' } } });
  });

  it('parses a default-depth Kommo key (7 levels) and 5000 fields by default', () => {
    const deep = wire([['leads[status][0][custom_fields][1][values][0][value]', 'v']]);
    expect(plain(parseNestedForm(deep))).toEqual({
      leads: { status: { '0': { custom_fields: { '1': { values: { '0': { value: 'v' } } } } } } },
    });
    const body = Array.from({ length: 5000 }, (_, i) => `k${i}=${i}`).join('&');
    expect(Object.keys(parseNestedForm(body))).toHaveLength(5000);
  });

  it('rejects invalid limits as a programming error', () => {
    expect(() => parseNestedForm('a=1', { maxParams: -1 })).toThrow(RangeError);
    expect(() => parseNestedForm('a=1', { maxDepth: 1.5 })).toThrow(RangeError);
  });
});

describe('errors', () => {
  it.each([
    ['truncated UTF-8 sequence', 'leads[add][0][name]=%E0%A4%A&leads[add][0][id]=1', /%E0%A4%A|"%A"/],
    ['non-hex escape', 'leads[add][0][name]=%zz', /"%zz"/],
    ['lone %', 'leads[add][0][name]=50%', /"%"/],
    ['invalid UTF-8 bytes', 'leads[add][0][name]=%C0%AF', /"%C0%AF" are not valid UTF-8/],
    ['lone surrogate', 'leads[add][0][name]=%ED%A0%80', /not valid UTF-8/],
    ['bad escape in the key', 'leads%5Badd%ZZ=1', /name of field #1/],
  ])('malformed percent encoding: %s → malformed_body', (_label, body, message) => {
    const err = parseError(() => parseKommoWebhook(body));
    expect(err.code).toBe('malformed_body');
    expect(err.message).toMatch(/percent-encoding/);
    expect(err.message).toMatch(message);
  });

  it('names the field whose value is badly encoded', () => {
    const err = parseError(() => parseNestedForm('a=1&leads%5Badd%5D%5B0%5D%5Bname%5D=%zz'));
    expect(err.message).toContain('field #2');
    expect(err.message).toContain('"leads[add][0][name]"');
    expect(err.message).toContain('two hex digits');
  });

  it.each([
    ['unclosed bracket', 'leads[status=1', /has no matching "\]"/],
    ['unclosed inner bracket', wire([['leads[status][0[id]', '1']]), /has no matching "\]"/],
    ['stray ]', 'leads]status=1', /"\]" without a matching "\["/],
    ['text after ]', 'leads[status]x=1', /unexpected text after "\]"/],
    ['no top-level name', '[status][0]=1', /starts with "\["/],
    ['empty name', '=1', /name is empty/],
  ])('unbalanced or malformed brackets: %s → malformed_body', (_label, body, message) => {
    const err = parseError(() => parseNestedForm(body));
    expect(err.code).toBe('malformed_body');
    expect(err.message).toMatch(message);
  });

  it.each([
    ['scalar then object', 'a=1&a[b]=2'],
    ['object then scalar', 'a[b]=2&a=1'],
    ['deep scalar then object', 'leads[status][0][id]=1&leads[status][0][id][x]=2'],
    ['duplicate key', 'leads[status][0][id]=1&leads[status][0][id]=2'],
  ])('conflicting keys: %s → malformed_body', (_label, body) => {
    expect(parseError(() => parseNestedForm(body)).code).toBe('malformed_body');
  });

  it('too many params → too_many_fields (empty pairs do not count)', () => {
    expect(parseError(() => parseNestedForm('a=1&b=2&c=3&d=4', { maxParams: 3 })).code).toBe('too_many_fields');
    expect(Object.keys(parseNestedForm('a=1&&&&b=2&&c=3', { maxParams: 3 }))).toHaveLength(3);
    const body = Array.from({ length: 5001 }, (_, i) => `k${i}=1`).join('&');
    const err = parseError(() => parseKommoWebhook(body));
    expect(err.code).toBe('too_many_fields');
    expect(err.message).toContain('5000');
  });

  it('too deep → too_deep', () => {
    expect(parseError(() => parseNestedForm('a[1][2][3]=x', { maxDepth: 2 })).code).toBe('too_deep');
    const key = `a${'[x]'.repeat(13)}`;
    const err = parseError(() => parseKommoWebhook(wire([[key, '1']])));
    expect(err.code).toBe('too_deep');
    expect(err.message).toContain('12');
  });

  it.each([
    ['missing id', [['leads[status][0][name]', 'x']], 'leads[status][0][id] is missing'],
    ['missing id of the second item', [['leads[status][0][id]', '1'], ['leads[status][1][name]', 'x']], 'leads[status][1][id] is missing'],
    ['empty id', [['leads[add][0][id]', '']], 'leads[add][0][id] must be a non-negative integer'],
    ['negative id', [['leads[add][0][id]', '-5']], 'leads[add][0][id] must be a non-negative integer'],
    ['decimal id', [['leads[add][0][id]', '1.5']], 'leads[add][0][id] must be a non-negative integer'],
    ['id with spaces', [['leads[add][0][id]', ' 1']], 'leads[add][0][id] must be a non-negative integer'],
    ['unsafe id', [['leads[add][0][id]', '9007199254740993']], 'leads[add][0][id] is larger than Number.MAX_SAFE_INTEGER'],
    ['id with nested fields', [['leads[add][0][id][x]', '1']], 'leads[add][0][id] must be a non-negative integer'],
    ['non-numeric status_id', [['leads[status][0][id]', '1'], ['leads[status][0][status_id]', 'won']], 'leads[status][0][status_id] must be a non-negative integer, got "won"'],
    ['non-numeric old_pipeline_id', [['leads[status][0][id]', '1'], ['leads[status][0][old_pipeline_id]', '1e3']], 'leads[status][0][old_pipeline_id]'],
    ['non-numeric account_id', [['leads[status][0][id]', '1'], ['leads[status][0][account_id]', 'x']], 'leads[status][0][account_id]'],
    ['non-numeric last_modified', [['leads[status][0][id]', '1'], ['leads[status][0][last_modified]', '2025-01-01']], 'leads[status][0][last_modified]'],
    ['non-numeric updated_at', [['leads[status][0][id]', '1'], ['leads[status][0][updated_at]', 'now']], 'leads[status][0][updated_at]'],
    ['non-numeric tag id', [['leads[add][0][id]', '1'], ['leads[add][0][tags][0][id]', 'vip']], 'leads[add][0][tags][0][id]'],
    ['missing custom field id', [['leads[add][0][id]', '1'], ['leads[add][0][custom_fields][0][name]', 'x']], 'leads[add][0][custom_fields][0][id] is missing'],
    ['non-numeric custom field id', [['leads[add][0][id]', '1'], ['leads[add][0][custom_fields][0][id]', 'abc']], 'leads[add][0][custom_fields][0][id]'],
    ['non-numeric account[id]', [['account[id]', 'acme']], 'account[id] must be a non-negative integer'],
    ['non-numeric item index', [['leads[add][first][id]', '1']], 'leads[add][first]: item indexes must be non-negative integers'],
    ['scalar item', [['leads[add][0]', '1']], 'leads[add][0] must hold nested fields'],
    ['scalar action', [['leads[add]', '1']], 'leads[add] must hold nested fields'],
    ['scalar leads', [['leads', '1']], 'leads must hold nested fields'],
    ['scalar account', [['account', 'acme']], 'account must hold nested fields'],
    ['note without any lead id', [['leads[note][0][note][id]', '5']], 'leads[note][0][id] is missing'],
  ] as Array<[string, Array<[string, string]>, string]>)('%s → invalid_item', (_label, pairs, message) => {
    const err = parseError(() => parseKommoWebhook(wire(pairs)));
    expect(err.code).toBe('invalid_item');
    expect(err.message).toContain(message);
  });

  it('accepts ids at the edges: 0 and MAX_SAFE_INTEGER', () => {
    const body = wire([
      ['leads[add][0][id]', String(Number.MAX_SAFE_INTEGER)],
      ['leads[add][0][status_id]', '0'],
    ]);
    expect(parseKommoWebhook(body).leadEvents).toEqual([lead('add', Number.MAX_SAFE_INTEGER, { statusId: 0 })]);
  });

  it('is a WebhookParseError and an Error with a name', () => {
    const err = parseError(() => parseNestedForm('a[b'));
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('WebhookParseError');
  });
});

describe('prototype pollution', () => {
  it.each([
    ['__proto__[polluted]=yes'],
    ['a[__proto__][polluted]=yes'],
    ['constructor[prototype][polluted]=yes'],
    ['a[constructor][prototype][polluted]=yes'],
    ['leads[status][0][__proto__][polluted]=yes'],
    [wire([['__proto__[polluted]', 'yes']])],
    ['a[prototype]=yes'],
    ['__proto__=yes'],
  ])('%s is rejected and Object.prototype stays clean', (body) => {
    const err = parseError(() => parseKommoWebhook(body));
    expect(err.code).toBe('malformed_body');
    expect(err.message).toMatch(/not allowed/);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('keys that merely look like Object.prototype members are plain data', () => {
    const form = parseNestedForm('hasOwnProperty=1&toString[x]=2&valueOf=3');
    expect(plain(form)).toEqual({ hasOwnProperty: '1', toString: { x: '2' }, valueOf: '3' });
  });
});
