// Shared by the fake-Xero tests: a listening fake, and a small HTTP client for its Accounting API that
// sends what a Xero client sends (Bearer token, xero-tenant-id, JSON).
import { afterEach, expect } from 'vitest';
import { createFakeXero, type FakeXero, type FakeXeroOptions } from '../../sandbox/xero/server.js';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

const fakes: FakeXero[] = [];

/**
 * Registers the after-each check: all traffic of the fakes (requests, answers, webhooks) was within the
 * contract. A test that breaks it on purpose asserts its violations and clears them.
 */
export function closeFakesAfterEach(): void {
  afterEach(async () => {
    const violations = fakes.flatMap((f) => f.violations);
    await Promise.all(fakes.splice(0).map((f) => f.close()));
    expect(violations).toEqual([]);
  });
}

export async function startXero(opts: FakeXeroOptions = {}) {
  const fake = createFakeXero(opts);
  fakes.push(fake);
  const base = await fake.listen();
  const token = fake.mintAccessToken();
  return { fake, base, token, api: client(fake, base, token) };
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Tenant to name in xero-tenant-id; null sends none. */
  tenant?: string | null;
  token?: string;
  signal?: AbortSignal;
}

export function client(fake: FakeXero, base: string, token: string) {
  const call = async (method: string, path: string, o: CallOptions = {}): Promise<Answer> => {
    const tenant = o.tenant === undefined ? fake.tenantId : o.tenant;
    const res = await fetch(`${base}/api.xro/2.0${path}`, {
      method,
      headers: {
        authorization: `Bearer ${o.token ?? token}`,
        accept: 'application/json',
        ...(tenant !== null ? { 'xero-tenant-id': tenant } : {}),
        ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...o.headers,
      },
      ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
  return {
    call,
    get: (path: string, o?: CallOptions) => call('GET', path, o),
    put: (path: string, body: unknown, o?: CallOptions) => call('PUT', path, { ...o, body }),
    post: (path: string, body: unknown, o?: CallOptions) => call('POST', path, { ...o, body }),
  };
}

export type Api = ReturnType<typeof client>;

export const where = (clause: string) => `where=${encodeURIComponent(clause)}`;

/** Creates a contact through the API; returns its ContactID. */
export async function newContact(api: Api, contact: Record<string, unknown> = {}): Promise<string> {
  const res = await api.put('/Contacts', { Contacts: [{ Name: 'Ada Lovelace', EmailAddress: 'ada@example.com', ...contact }] });
  expect(res.status).toBe(200);
  return res.json.Contacts[0].ContactID as string;
}

export const invoiceInput = (contactId: string, extra: Record<string, unknown> = {}) => ({
  Type: 'ACCREC',
  Contact: { ContactID: contactId },
  LineItems: [{ Description: 'Website redesign', Quantity: 2, UnitAmount: 100, AccountCode: '200', TaxType: 'OUTPUT2' }],
  Date: '2026-03-01',
  DueDate: '2026-03-15',
  Reference: 'kommo-deal-31337',
  CurrencyCode: 'GBP',
  Status: 'AUTHORISED',
  ...extra,
});

/** Creates an invoice through the API; returns the answer's invoice. */
export async function newInvoice(api: Api, contactId: string, extra: Record<string, unknown> = {}): Promise<Record<string, any>> {
  const res = await api.put('/Invoices', { Invoices: [invoiceInput(contactId, extra)] });
  expect(res.status, res.text).toBe(200);
  return res.json.Invoices[0];
}
