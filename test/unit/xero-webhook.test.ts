// Xero's signed webhooks: x-xero-signature = base64(HMAC-SHA256(raw body, webhook key)), compared on the raw
// bytes; the intent-to-receive rule (right signature 200, wrong 401); the event list read with caps. Sample
// bodies are checked against Xero's webhooks document (contract/xero/webhooks.json) with its override.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { XERO_SCHEMA_OVERRIDES } from '../../src/accounting/xero/contract/overrides.js';
import { MAX_XERO_EVENTS, parseXeroWebhook, xeroSignatureValid, xeroWebhookStatus, XeroWebhookError } from '../../src/accounting/xero/webhook.js';

const KEY = 'x5Gm0Pz7Vt2cq8Yk3Lw9Rj1Nb4Hf6Ds0Ua2Ee5Ii8Oo1Qq4Tt7Ww0Zz3Cc6Vv9Bb2Nn5Mm8Ll1Kk4Jj7Hh0Gg3Ff6Dd9Ss2Aa==';
const TENANT = '7B1D9E40-0C4D-4A4B-9D0A-6A3B2F1E0C11';
const INVOICE = '4a4b4c4d-1111-4222-8333-944455556666';
const sign = (body: Buffer | string, key = KEY) => createHmac('sha256', key).update(body).digest('base64');

const event = (extra: Record<string, unknown> = {}) => ({
  resourceUrl: `https://api.xero.com/api.xro/2.0/Invoices/${INVOICE}`,
  resourceId: INVOICE,
  eventDateUtc: '2019-03-11T10:00:00.000Z',
  eventType: 'UPDATE',
  eventCategory: 'INVOICE',
  tenantId: TENANT,
  tenantType: 'ORGANISATION',
  ...extra,
});
const batch = (events: unknown[]) => JSON.stringify({ events, firstEventSequence: 1, lastEventSequence: events.length || 1, entropy: 'KSYQXXQLEDWRFTXDDZPV' });
const INTENT = JSON.stringify({ events: [], firstEventSequence: 0, lastEventSequence: 0, entropy: 'S0M3R4ND0MT3XT' });

describe('x-xero-signature', () => {
  it('accepts the signature of exactly these bytes, as a Buffer or a string', () => {
    const raw = batch([event()]);
    expect(xeroSignatureValid(Buffer.from(raw), sign(raw), KEY)).toBe(true);
    expect(xeroSignatureValid(raw, [sign(raw)], KEY)).toBe(true);
    // Non-ASCII bytes: the HMAC is over the bytes received, not over a re-serialisation.
    const accented = Buffer.from(batch([event({ eventDateUtc: '2019-03-11T10:00:00.000Z', note: 'Zürich café' })]));
    expect(xeroSignatureValid(accented, sign(accented), KEY)).toBe(true);
  });

  it('rejects another key, a changed body, a re-serialised body, a missing, truncated or re-padded header', () => {
    const raw = `${batch([event()])}\n`;
    const good = sign(raw);
    expect(xeroSignatureValid(raw, sign(raw, 'another-key'), KEY)).toBe(false);
    expect(xeroSignatureValid(raw.replace('UPDATE', 'CREATE'), good, KEY)).toBe(false);
    expect(xeroSignatureValid(JSON.stringify(JSON.parse(raw)), good, KEY)).toBe(false);
    expect(xeroSignatureValid(raw, undefined, KEY)).toBe(false);
    expect(xeroSignatureValid(raw, '', KEY)).toBe(false);
    expect(xeroSignatureValid(raw, good.slice(0, -2), KEY)).toBe(false);
    expect(xeroSignatureValid(raw, `${good.replace(/=+$/, '')}`, KEY)).toBe(false);
    expect(xeroSignatureValid(raw, good, '')).toBe(false);
  });

  it('intent to receive: 200 for the rightly signed empty batch, 401 for a wrongly signed one', () => {
    expect(xeroWebhookStatus(INTENT, sign(INTENT), KEY)).toBe(200);
    expect(xeroWebhookStatus(INTENT, sign(INTENT, 'wrong'), KEY)).toBe(401);
    expect(xeroWebhookStatus(INTENT, undefined, KEY)).toBe(401);
    expect(parseXeroWebhook(INTENT)).toEqual({ events: [], intentToReceive: true, firstEventSequence: 0, lastEventSequence: 0, ignored: 0 });
  });
});

describe('the events', () => {
  it('reads tenant, resource, category and type of each event (GUIDs lowercased); leaves out malformed ones', () => {
    const raw = batch([
      event(),
      event({ eventCategory: 'CONTACT', eventType: 'CREATE', resourceId: '1f0e2d3c-4b5a-4968-8776-655443322110' }),
      event({ resourceId: 'not-a-guid' }),
      event({ eventCategory: 'PAYMENT' }),
      'text',
      event({ tenantId: 42 }),
    ]);
    const read = parseXeroWebhook(Buffer.from(raw));
    expect(read.events).toEqual([
      { tenantId: TENANT.toLowerCase(), resourceId: INVOICE, eventCategory: 'INVOICE', eventType: 'UPDATE', eventDateUtc: '2019-03-11T10:00:00.000Z' },
      { tenantId: TENANT.toLowerCase(), resourceId: '1f0e2d3c-4b5a-4968-8776-655443322110', eventCategory: 'CONTACT', eventType: 'CREATE', eventDateUtc: '2019-03-11T10:00:00.000Z' },
    ]);
    expect(read).toMatchObject({ intentToReceive: false, ignored: 4, firstEventSequence: 1 });
  });

  it('caps: more than MAX_XERO_EVENTS events, an oversized body, or a body that is not an event list is refused', () => {
    const many = batch(Array.from({ length: MAX_XERO_EVENTS + 1 }, () => event()));
    expect(() => parseXeroWebhook(many)).toThrow(XeroWebhookError);
    expect(() => parseXeroWebhook(`{"events":[],"pad":"${'x'.repeat(600 * 1024)}"}`)).toThrow(/at most/);
    expect(() => parseXeroWebhook('{"events":{}}')).toThrow(/no "events" list/);
    expect(() => parseXeroWebhook('{')).toThrow(/not JSON/);
    expect(parseXeroWebhook(batch(Array.from({ length: MAX_XERO_EVENTS }, () => event()))).events).toHaveLength(MAX_XERO_EVENTS);
  });

  it('linear time: a body of deeply nested arrays or 10,000 junk events is read in well under a second', () => {
    const started = performance.now();
    expect(parseXeroWebhook(`{"events":${'['.repeat(50_000)}${']'.repeat(50_000)}}`)).toMatchObject({ events: [], ignored: 1 });
    expect(() => parseXeroWebhook(`{"events":[${Array.from({ length: 10_000 }, () => '{}').join(',')}]}`)).toThrow(/10000 events/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("the sample bodies are what Xero's webhooks document allows (the intent body through its override)", () => {
    const doc = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '..', '..', 'contract', 'xero', 'webhooks.json'), 'utf8')) as {
      components: { schemas: Record<string, Record<string, unknown>> };
    };
    for (const o of XERO_SCHEMA_OVERRIDES.filter((x) => x.document === 'webhooks')) o.patch(doc.components.schemas[o.schema]!);
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajvFormats.default(ajv);
    ajv.addSchema(doc, 'webhooks');
    const validate = ajv.getSchema('webhooks#/components/schemas/WebhookEvent')!;
    for (const body of [batch([event()]), INTENT]) expect(validate(JSON.parse(body)), JSON.stringify(validate.errors)).toBe(true);
  });
});
