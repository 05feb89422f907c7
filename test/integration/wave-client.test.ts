// The Wave client on the wire, against the fake Wave on a port (which counts calls in flight and per minute per
// token, as Wave is said to): the client keeps under 2 in flight, waits out a 429's Retry-After, asks a query
// again after a 5xx but sends a mutation once (its lost outcome is uncertain), and turns Wave's error codes into
// the relay's errors. Every test ends with the fake having seen nothing outside the contract.
import { afterEach, describe, expect, it } from 'vitest';
import { WaveClient } from '../../src/accounting/wave/client.js';
import { translateGraphQLErrors } from '../../src/accounting/wave/errors.js';
import { waveMappingSection } from '../../src/accounting/wave/mapping.js';
import { fullAccessToken } from '../../src/accounting/wave/oauth.js';
import { waveSettingsSchema } from '../../src/accounting/wave/settings.js';
import { createWaveSide } from '../../src/accounting/wave/side.js';
import type { Env } from '../../src/config/env.js';
import { RelayError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { SlidingWindowLimiter } from '../../src/net/rate-limiter.js';
import { TokenCipher } from '../../src/security/crypto.js';
import { Connections } from '../../src/store/connections.js';
import { createFakeWave, type FakeWave, type FakeWaveOptions } from '../../sandbox/wave/server.js';
import { tempStore } from '../support/tmp.js';

const KEY = Buffer.from('5c2e8a1f0b3d4c6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6', 'hex');
const log = createLogger({ level: 'silent' });

let fakes: FakeWave[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const f of fakes) expect(f.violations).toEqual([]);
  for (const f of fakes) await f.close();
  fakes = [];
});

async function setUp(opts: FakeWaveOptions = {}, extra: Record<string, string> | ((fake: FakeWave) => Record<string, string>) = {}) {
  const fake = createFakeWave(opts);
  fakes.push(fake);
  const origin = await fake.listen();
  const store = await tempStore();
  cleanups.push(() => store.cleanup());
  const settings = waveSettingsSchema.parse({ WAVE_ACCESS_TOKEN: fake.fullAccessToken, WAVE_API_URL: origin, ...(typeof extra === 'function' ? extra(fake) : extra) });
  const side = createWaveSide({ settings, env: { HTTP_TIMEOUT_MS: 3000 } as Env, connections: new Connections(store.db, new TokenCipher(KEY)), log, limiter: (spec) => new SlidingWindowLimiter(spec.limit, spec.windowMs) });
  await side.start();
  return { fake, origin, side, client: side.parts.client };
}

const statuses = (fake: FakeWave) => fake.requests.filter((r) => r.path === '/graphql/public').map((r) => r.status);

describe('Wave client limits and failures', () => {
  it('keeps at most 2 calls in flight (WAVE_CONCURRENT_CALLS): ten reads at once, no 429 from Wave', async () => {
    const { fake, client } = await setUp({ limits: { concurrent: 2 } });
    fake.faults.set({ latencyMs: 60 });
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 10 }, () => client.salesTaxes()));
    expect(answers.every((a) => a.length === 2)).toBe(true);
    expect(fake.limits.refusals).toEqual([]);
    expect(statuses(fake).filter((s) => s === 429)).toEqual([]);
    // Two at a time, 60 ms each: at least five rounds.
    expect(Date.now() - started).toBeGreaterThanOrEqual(5 * 60 - 20);
  });

  it('more in flight than Wave allows is refused by Wave with 429: the client waits out Retry-After and gets the answer', async () => {
    const { fake, client } = await setUp({ limits: { concurrent: 2 } }, {});
    const before = statuses(fake).length;
    fake.rateLimitBurst(1, 1);
    const started = Date.now();
    await expect(client.salesTaxes()).resolves.toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(statuses(fake).slice(before)).toEqual([429, 200]);
  });

  it('a query answered 503 is asked again; a mutation answered 500 is sent once and its outcome is uncertain', async () => {
    const { fake, client } = await setUp();
    const first = statuses(fake).length;
    fake.faults.failNext(1, { status: 503 });
    await expect(client.incomeAccounts()).resolves.toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Sales' })]));
    expect(statuses(fake).slice(first)).toEqual([503, 200]);
    fake.faults.failNext(1, { status: 500 });
    const before = fake.requests.length;
    const err = await client.createCustomer({ name: 'Once', email: 'once@example.com' }).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ kind: 'retryable', code: 'wave_unavailable', uncertain: true });
    expect(fake.requests.length - before).toBe(1);
  });

  it("a mutation failing inside Wave (INTERNAL_SERVER_ERROR) is not resent; a query is", async () => {
    const { fake, client } = await setUp();
    fake.internalErrorNext(1, { field: 'customerCreate' });
    await expect(client.createCustomer({ name: 'Once', email: 'once@example.com' })).rejects.toMatchObject({ kind: 'retryable', code: 'wave_unavailable', uncertain: true });
    expect((fake.snapshot() as { customers: unknown[] }).customers).toHaveLength(0);
    fake.internalErrorNext(1, { field: 'business' });
    await expect(client.products()).resolves.toEqual([]);
  });

  it('another business\'s invoice ID is NOT_FOUND: permanent, accounting_not_found through the port', async () => {
    // The token reaches both businesses; the relay works in the first.
    const { fake, side } = await setUp({ businesses: [{ name: 'Ours' }, { name: 'Theirs' }] }, (f) => ({ WAVE_BUSINESS_ID: f.businessIds[0]! }));
    const other = fake.businessIds[1]!;
    const customer = fake.addCustomer({ name: 'X', email: 'x@example.com' }, other);
    const theirs = fake.addInvoice({ customerId: customer, items: [] }, { businessId: other });
    const err = await side.port({ section: waveMappingSection.parse({}), sendInvoice: false }).getInvoice(theirs).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RelayError);
    expect(err).toMatchObject({ kind: 'permanent', code: 'accounting_not_found' });
  });

  it('a token that does not reach Wave at all: UNAUTHENTICATED, retryable (jobs wait), with what to do', async () => {
    const { fake } = await setUp();
    const client = new WaveClient({ tokens: fullAccessToken('not-a-token'), businessId: () => fake.businessId, url: fake.graphqlUrl!, timeoutMs: 2000, log });
    await expect(client.salesTaxes()).rejects.toMatchObject({ kind: 'retryable', code: 'wave_unauthorized' });
  });
});

describe("Wave's error codes in the relay's words", () => {
  const q = { operation: 'Invoice', mutation: false, status: 200 };
  it('a document Wave finds malformed is a bug in the relay, permanent, and says so', () => {
    for (const code of ['GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT']) {
      const e = translateGraphQLErrors([{ message: 'Cannot query field "nope"', extensions: { code } }], q);
      expect(e).toMatchObject({ kind: 'permanent', code: 'wave_bug' });
      expect(e.message).toMatch(/This is a bug in the relay, not in your data/);
    }
  });
  it('NOT_FOUND is permanent; UNAUTHENTICATED and INTERNAL_SERVER_ERROR retryable, a failed mutation uncertain', () => {
    expect(translateGraphQLErrors([{ message: 'Invoice not found', extensions: { code: 'NOT_FOUND' } }], q)).toMatchObject({ kind: 'permanent', code: 'wave_not_found' });
    expect(translateGraphQLErrors([{ message: 'expired', extensions: { code: 'UNAUTHENTICATED' } }], q)).toMatchObject({ kind: 'retryable', code: 'wave_unauthorized' });
    expect(translateGraphQLErrors([{ message: 'boom', extensions: { code: 'INTERNAL_SERVER_ERROR' } }], { ...q, mutation: true })).toMatchObject({ kind: 'retryable', code: 'wave_unavailable', uncertain: true });
    // Capped: a flood of messages makes one short text.
    const many = Array.from({ length: 500 }, (_, i) => ({ message: `m${i} ${'x'.repeat(1000)}` }));
    expect(translateGraphQLErrors(many, q).message.length).toBeLessThan(4000);
  });
});
