// The Kommo form parser has two roads: a one-pass decoder for well-formed ASCII bodies (what Kommo sends,
// and the intake's hot path) and the pair-by-pair loop every other body takes. They must agree on every
// body: the same tree, key order and null prototypes, or the same error code and message.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KOMMO_MUTATIONS, kommoPairs } from '../../bench/scenarios/fuzz-bodies.js';
import { encodeForm } from '../../sandbox/kommo/webhook-encode.js';
import { parseNestedForm, parseNestedFormPairByPair, WebhookParseError, type NestedForm, type NestedFormLimits } from '../../src/intake/form/nested-form.js';

type Outcome = { tree: unknown } | { error: string };

/** The tree with its key order and prototypes made visible, or the error's class, code and message. */
function outcome(parse: () => NestedForm): Outcome {
  try {
    return { tree: shape(parse()) };
  } catch (err) {
    if (err instanceof WebhookParseError) return { error: `${err.code}: ${err.message}` };
    if (err instanceof RangeError) return { error: `RangeError: ${err.message}` };
    throw err;
  }
}

function shape(node: string | NestedForm): unknown {
  if (typeof node === 'string') return node;
  return { proto: Object.getPrototypeOf(node) === null ? 'null' : 'object', entries: Object.entries(node).map(([k, v]) => [k, shape(v)]) };
}

function sameOnBothRoads(body: string, limits?: Partial<NestedFormLimits>): void {
  expect(outcome(() => parseNestedForm(body, limits))).toEqual(outcome(() => parseNestedFormPairByPair(body, limits)));
}

const target = { secret: 's', zohoSigningSecret: 'z', accountId: 30011223, subdomain: 'acme', pipelineId: 7710021, triggerStatuses: [142, 61234570], otherStatuses: [143, 61234566] };

// Pieces that exercise the decoder's corners: brackets raw and escaped, `+`, every kind of escape (ASCII,
// multi-byte UTF-8, truncated, overlong, surrogates, BOM, bad hex), empty segments, prototype names.
const token = fc.constantFrom(
  'a', 'b', 'leads', 'status', '0', '1', '01', '10', '[', ']', '[]', '%5B', '%5D', '%5b', '=', '&', '+', '%20', '%25', '%2B', '%26', '%3D',
  '%D0%9F', '%d0%bf', '%E2%82%AC', '%F0%9F%98%80', '%EF%BB%BF', '%D0', '%E2%82', '%C0%AF', '%ED%A0%80', '%FF', '%G1', '%', '%4', 'é', '__proto__', 'constructor', 'prototype', 'x'.repeat(40),
);
const tokenBody = fc.array(token, { maxLength: 40 }).map((t) => t.join(''));

const segment = fc.constantFrom('leads', 'status', 'add', '0', '1', '2', '9', '10', '007', '', 'id', 'custom_fields', 'values', 'value', '__proto__', 'Имя', 'a b', 'a+b');
const key = fc.tuple(fc.constantFrom('leads', 'account', 'contacts', 'x', ''), fc.array(segment, { maxLength: 6 })).map(([head, rest]) => ({ head, rest }));
const value = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', '1764028800', 'Аудит сайта + SEO', '100%', 'a&b=c'));
const structuredBody = fc
  .array(fc.tuple(key, value, fc.boolean()), { maxLength: 30 })
  .map((pairs) =>
    pairs
      .map(([k, v, escapeBrackets]) => {
        const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
        const brackets = k.rest.map((s) => (escapeBrackets ? `%5B${enc(s)}%5D` : `[${enc(s)}]`)).join('');
        return `${enc(k.head)}${brackets}=${enc(v)}`;
      })
      .join('&'),
  );

const limits = fc.option(fc.record({ maxParams: fc.integer({ min: 0, max: 40 }), maxDepth: fc.integer({ min: 0, max: 8 }) }, { requiredKeys: [] }), { nil: undefined });

describe('the two roads of the Kommo form parser', () => {
  it('agree on realistic webhook bodies, valid and mutated the ways the intake fuzz mutates them', () => {
    const mutations = Object.keys(KOMMO_MUTATIONS);
    fc.assert(
      fc.property(kommoPairs(target), fc.constantFrom(...mutations), fc.integer(), limits, (pairs, mutation, seed, lim) => {
        let state = seed >>> 0;
        const random = () => (state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32;
        const raw = KOMMO_MUTATIONS[mutation]!(encodeForm(pairs), random);
        sameOnBothRoads(raw.toString('utf8'), lim);
        sameOnBothRoads(raw.toString('latin1'), lim);
      }),
      { numRuns: 600, seed: 20261125 },
    );
  });

  it('agree on bodies made of awkward tokens and on structured keys with raw and escaped brackets', () => {
    fc.assert(fc.property(tokenBody, limits, (body, lim) => sameOnBothRoads(body, lim)), { numRuns: 3000, seed: 20261125 });
    fc.assert(fc.property(structuredBody, limits, (body, lim) => sameOnBothRoads(body, lim)), { numRuns: 2000, seed: 20261125 });
  });

  it('agree on a fixed list of corner cases', () => {
    for (const body of [
      '', '&', '&&a=1&&', 'a', 'a=', '=a', 'a[]=1&a[]=2&a[5]=x&a[]=y', 'a[0]=1&a[]=2', 'a[b]=1&a[b]=2', 'a=1&a[b]=2', 'a[b]=2&a=1',
      'a[b]c=1', 'a[b=1', 'a]=1', '[a]=1', 'a%5Bb%5D=1', 'a%5Bb]=1', 'a[__proto__]=1', 'a[%5F_proto__]=1', 'a=%E2%82', 'a=%EF%BB%BFx',
      '%EF%BB%BFa=1', 'a=%ED%A0%80', 'a=%C0%AF', 'a=%', 'a=%4', 'a=%zz', 'a=+%2B+', 'a[99999999999999999999]=1&a[]=2',
      'leads[status][0][id]=1&leads[status][0][custom_fields][0][values][0]=1764028800&leads[status][1][id]=2',
      `a${'[x]'.repeat(13)}=1`, 'a[1]=x&a[01]=y&a[]=z', 'é=1', 'a=é',
    ]) {
      sameOnBothRoads(body);
      sameOnBothRoads(body, { maxParams: 1, maxDepth: 1 });
    }
  });
});
