// The JSON parse every body from outside goes through (Kommo's and Zoho's answers, Zoho's webhooks):
// linear on any text, and 16+-digit integer tokens kept exact as strings. Two independent references
// hold it to the rule on random JSON: the regular expression it replaced, and JSON.parse's reviver
// reading each number's own source text (Node 24).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonLimitError, parseBody, parseLimitedJson, quoteLongIntegers } from '../../src/net/json-body.js';

/** The rule as it was written before: quadratic on `\"` runs, so only ever given small inputs here. */
function regexReference(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text.replace(/("(?:[^"\\]|\\.)*")|(?<![\d.eE+-])(-?\d{16,})(?![\d.eE])/g, (m, str) => (str ? m : `"${m}"`)));
  } catch {
    return text;
  }
}

function reviverReference(text: string): unknown {
  try {
    return JSON.parse(text, (_key, value, context?: { source?: string }) =>
      typeof value === 'number' && context?.source !== undefined && /^-?\d{16,}$/.test(context.source) ? context.source : value,
    );
  } catch {
    return text;
  }
}

const KB = 1024;

describe('parseBody keeps 16+-digit integers exact', () => {
  it.each([
    ['{"invoice_id":9834000000123456789}', { invoice_id: '9834000000123456789' }],
    ['{"n":-9834000000123456789}', { n: '-9834000000123456789' }],
    ['[1234567890123456, 123456789012345]', ['1234567890123456', 123456789012345]],
    ['{"rate":0.30000000000000004,"e":12345678901234567e3,"f":1.2345678901234567E+5}', { rate: 0.30000000000000004, e: 12345678901234567e3, f: 1.2345678901234567e5 }],
    ['{"s":"9834000000123456789","t":"a\\"9834000000123456789"}', { s: '9834000000123456789', t: 'a"9834000000123456789' }],
    ['{"a":[9834000000123456789,\n9834000000123456790]}', { a: ['9834000000123456789', '9834000000123456790'] }],
    ['<html>403 Forbidden</html>', '<html>403 Forbidden</html>'],
    ['{"unterminated":', '{"unterminated":'],
  ])('%s', (text, expected) => {
    expect(parseBody(text)).toStrictEqual(expected);
  });

  it('empty text is undefined, a value that is not text is handed back', () => {
    expect(parseBody('  ')).toBeUndefined();
    expect(parseBody({ a: 1 })).toEqual({ a: 1 });
  });

  const bigInt = fc.bigInt({ min: -(10n ** 22n), max: 10n ** 22n }).map((n) => ({ raw: n.toString() }));
  const decimal = fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.bigInt({ min: 0n, max: 10n ** 20n })).map(([a, b]) => ({ raw: `${a}.${b}` }));
  const exponent = fc.tuple(fc.bigInt({ min: 1n, max: 10n ** 19n }), fc.integer({ min: -5, max: 5 })).map(([a, e]) => ({ raw: `${a}e${e}` }));
  const leaf = fc.oneof(bigInt, decimal, exponent, fc.string({ unit: 'binary' }), fc.constantFrom(true, false, null), fc.double({ noNaN: true, noDefaultInfinity: true }));
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('tree'), { maxLength: 5 }), fc.dictionary(fc.string(), tie('tree'), { maxKeys: 5 })),
  }));
  /** Serialises with number tokens exactly as generated (JSON.stringify would round them). */
  const render = (v: unknown, space: string): string => {
    if (v !== null && typeof v === 'object' && 'raw' in v) return (v as { raw: string }).raw;
    if (Array.isArray(v)) return `[${space}${v.map((x) => render(x, space)).join(`,${space}`)}]`;
    if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}${space}:${space}${render(x, space)}`).join(',')}}`;
    return JSON.stringify(v);
  };

  it('equals both references on random JSON with big integers, decimals, exponents and escapes', () => {
    fc.assert(
      fc.property(tree, fc.constantFrom('', ' ', '\n\t'), (value, space) => {
        const text = render(value, space);
        const parsed = parseBody(text);
        expect(parsed).toStrictEqual(reviverReference(text));
        expect(parsed).toStrictEqual(regexReference(text));
      }),
      { numRuns: 500 },
    );
  });

  it('on arbitrary text never throws, and equals the reviver wherever the text is JSON', () => {
    // (Not the regular expression here: on broken text such as `"\\1111111111111111` it quoted digits inside
    // an unterminated string and so made a value out of text that is not JSON.)
    const alphabet = fc.constantFrom(...'{}[]:,"\\-+.eE0123456789 a'.split(''));
    fc.assert(
      fc.property(fc.string({ unit: alphabet, maxLength: 60 }), fc.string({ unit: fc.constantFrom('1', '9', '0'), minLength: 14, maxLength: 22 }), (noise, digits) => {
        for (const text of [noise, `${noise}${digits}`, `[${digits}${noise}]`, `{"a":${noise}${digits}}`, `[1${digits},${noise}]`]) {
          const parsed = parseBody(text);
          if (isJson(text)) expect(parsed).toStrictEqual(reviverReference(text));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('parseBody on pathological bodies of 256 KB', () => {
  // Each of these takes the old regular expression from 0.6 s (32 KB) to 28 s (256 KB); any of them
  // taking a time that grows faster than the body would time this test out long before it passes.
  const bodies: Array<[string, string, unknown]> = [
    ['a run of \\" in an unterminated string', `{"a":"${'\\"'.repeat((256 * KB - 6) / 2)}`, 'text'],
    ['a run of \\" in a closed string', `{"a":"${'\\"'.repeat((256 * KB - 8) / 2)}"}`, 'object'],
    ['a run of backslashes', `{"a":"${'\\\\'.repeat((256 * KB - 8) / 2)}"}`, 'object'],
    ['one integer of 256 K digits', `{"a":${'9'.repeat(256 * KB - 6)}}`, 'object'],
    ['a 256 K-digit decimal', `{"a":1.${'9'.repeat(256 * KB - 8)}}`, 'object'],
    ['13,000 big integers', `[${Array.from({ length: 13_000 }, () => '9834000000123456789').join(',')}]`, 'object'],
    ['deep nesting', `${'['.repeat(128 * KB)}${']'.repeat(128 * KB)}`, 'object'],
  ];

  it.each(bodies)('%s', (_name, text, kind) => {
    const parsed = parseBody(text);
    expect(kind === 'text' ? parsed === text : typeof parsed === 'object' && parsed !== null).toBe(true);
  });

  it('the 256 K-digit integer comes back digit for digit', () => {
    const digits = '9'.repeat(256 * KB - 6);
    expect(parseBody<{ a: string }>(`{"a":${digits}}`).a).toBe(digits);
  });

  it('100 bodies of 256 KB escape runs parse in seconds (the old road: 28 s each)', () => {
    // Timing-insensitive in practice: linear is ~2 ms per body, the old road ~28 s per body.
    const text = `{"a":"${'\\"'.repeat((256 * KB - 8) / 2)}"}`;
    const started = performance.now();
    for (let i = 0; i < 100; i++) parseBody(text);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe('parseLimitedJson (webhook bodies)', () => {
  const limits = { maxDepth: 64, maxKeys: 5000 };
  it('refuses nesting past the limit and objects with too many keys, before JSON.parse builds anything', () => {
    expect(() => parseLimitedJson(`${'['.repeat(65)}${']'.repeat(65)}`, limits)).toThrow(JsonLimitError);
    expect(parseLimitedJson(`${'['.repeat(64)}${']'.repeat(64)}`, limits)).toBeDefined();
    const keys = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',')}}`;
    expect(() => parseLimitedJson(keys(5001), limits)).toThrow(/more than 5000 keys/);
    expect(Object.keys(parseLimitedJson(keys(5000), limits) as object)).toHaveLength(5000);
    // Arrays are cheap to build: many elements are fine; braces and colons inside strings do not count.
    expect(parseLimitedJson(`[${'1,'.repeat(100_000)}1]`, limits)).toHaveLength(100_001);
    expect(parseLimitedJson(`{"a":"${'[{:'.repeat(10_000)}"}`, limits)).toEqual({ a: '[{:'.repeat(10_000) });
  });

  it('quotes big integers exactly as parseBody does', () => {
    expect(quoteLongIntegers('{"a":9834000000123456789,"b":1.5}', limits)).toBe('{"a":"9834000000123456789","b":1.5}');
  });
});
