// Xero's formats and the small rules the client is built on: /Date()/ values, Retry-After, where-clause
// values, Idempotency-Keys, and the in-flight semaphore.
import { describe, expect, it } from 'vitest';
import { embeddedPayments } from '../../src/accounting/xero/accounting.js';
import { ifModifiedSince, parseXeroDate, xeroDay } from '../../src/accounting/xero/dates.js';
import { assertIdempotencyKey, xeroIdempotencyKey } from '../../src/accounting/xero/idempotency.js';
import { retryAfterMs } from '../../src/accounting/xero/quota.js';
import { sameEmail, whereEquals, whereGuid } from '../../src/accounting/xero/where.js';
import { Semaphore } from '../../src/net/semaphore.js';

describe('dates', () => {
  it('reads /Date(ms+zone)/ as UTC milliseconds (the zone is informational), ISO with or without a zone, and nothing else', () => {
    expect(parseXeroDate('/Date(1552262400000+0000)/')).toBe(Date.UTC(2019, 2, 11));
    expect(parseXeroDate('/Date(1552262400000+1300)/')).toBe(Date.UTC(2019, 2, 11));
    expect(parseXeroDate('/Date(1552262400000)/')).toBe(Date.UTC(2019, 2, 11));
    expect(parseXeroDate('/Date(-86400000+0000)/')).toBe(-86_400_000);
    expect(parseXeroDate('2019-03-11T00:00:00')).toBe(Date.UTC(2019, 2, 11));
    expect(parseXeroDate('2019-03-11T10:15:00.5Z')).toBe(Date.UTC(2019, 2, 11, 10, 15, 0, 500));
    expect(parseXeroDate('2019-03-11')).toBe(Date.UTC(2019, 2, 11));
    for (const bad of ['', 'Date(1552262400000)', '/Date(abc)/', '/Date(1552262400000+00)/', 'yesterday', 42, null, `/Date(${'9'.repeat(100)})/`]) {
      expect(parseXeroDate(bad)).toBeUndefined();
    }
    expect(xeroDay(Date.UTC(2019, 2, 11, 23, 59))).toBe('2019-03-11');
    expect(ifModifiedSince(Date.UTC(2019, 2, 11, 8, 5, 9, 999))).toBe('2019-03-11T08:05:09Z');
  });
});

describe('the payments GET /Invoices/{InvoiceID} carries', () => {
  const p = (o: Record<string, unknown>) => ({ PaymentID: '0d4b8a3e-1c2f-4e5a-9b6c-7d8e9f0a1b2c', Amount: 100, Date: '/Date(1764547200000+0000)/', ...o });
  it('are the payments when each has its ID, amount and date (a deleted one left out); otherwise the payments are asked for', () => {
    expect(embeddedPayments([p({}), p({ PaymentID: '1e5c9b4f-2d3a-4f6b-8c7d-8e9f0a1b2c3d', Amount: 20.5, Date: '2025-12-02T00:00:00' }), p({ Status: 'DELETED' })])).toEqual([
      { paymentId: '0d4b8a3e-1c2f-4e5a-9b6c-7d8e9f0a1b2c', amount: 100, date: '2025-12-01' },
      { paymentId: '1e5c9b4f-2d3a-4f6b-8c7d-8e9f0a1b2c3d', amount: 20.5, date: '2025-12-02' },
    ]);
    expect(embeddedPayments([])).toEqual([]);
    expect(embeddedPayments(undefined)).toBeUndefined();
    for (const missing of [{ Date: undefined }, { Amount: undefined }, { PaymentID: undefined }, { Date: 'soon' }]) {
      expect(embeddedPayments([p({}), p(missing)])).toBeUndefined();
    }
  });
});

describe('Retry-After', () => {
  it('takes seconds or an HTTP date', () => {
    expect(retryAfterMs('30')).toBe(30_000);
    expect(retryAfterMs(['2'])).toBe(2000);
    const now = Date.UTC(2019, 2, 11, 10, 0, 0);
    expect(retryAfterMs('Mon, 11 Mar 2019 10:01:00 GMT', now)).toBe(60_000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });
});

describe('where values', () => {
  it('quotes safe values, refuses those that could end the string literal, and checks GUIDs', () => {
    expect(whereEquals('Reference', 'Kommo deal 12')).toBe('Reference=="Kommo deal 12"');
    for (const bad of ['', 'a"b', 'a\\b', 'line\nbreak', 'x'.repeat(256)]) expect(() => whereEquals('Reference', bad)).toThrow(/Cannot search Xero/);
    expect(whereGuid('Invoice.InvoiceID', '4a4b4c4d-1111-4222-8333-944455556666')).toBe('Invoice.InvoiceID=guid("4a4b4c4d-1111-4222-8333-944455556666")');
    expect(() => whereGuid('Invoice.InvoiceID', '4a4b4c4d") || true || ("')).toThrow(/not a Xero ID/);
    expect(sameEmail(' Ada@Example.COM', 'ada@example.com ')).toBe(true);
    expect(sameEmail('ada@example.co', 'ada@example.com')).toBe(false);
  });
});

describe('Idempotency-Key', () => {
  it('joins the parts of an intent; too long or non-ASCII becomes a stable hash; at most 128 characters are sent', () => {
    expect(xeroIdempotencyKey('deal', 42, 'invoice')).toBe('deal:42:invoice');
    const long = xeroIdempotencyKey('deal', 'ü'.repeat(10));
    expect(long).toBe(xeroIdempotencyKey('deal', 'ü'.repeat(10)));
    expect(long.length).toBeLessThanOrEqual(128);
    expect(assertIdempotencyKey('k'.repeat(128))).toHaveLength(128);
    expect(() => assertIdempotencyKey('k'.repeat(129))).toThrow(/1 to 128/);
    expect(() => assertIdempotencyKey('has space')).toThrow(/visible ASCII/);
  });
});

describe('Semaphore', () => {
  it('holds at most `limit`, serves waiters in order, and a double release frees one slot only', async () => {
    const s = new Semaphore(2);
    const a = await s.acquire();
    const b = await s.acquire();
    const order: string[] = [];
    const c = s.acquire().then((r) => (order.push('c'), r));
    const d = s.acquire().then((r) => (order.push('d'), r));
    expect([s.inUse, s.queued]).toEqual([2, 2]);
    a();
    a();
    const releaseC = await c;
    expect(order).toEqual(['c']);
    expect([s.inUse, s.queued]).toEqual([2, 1]);
    b();
    (await d)();
    releaseC();
    expect([s.inUse, s.queued]).toEqual([0, 0]);
    expect(() => new Semaphore(0)).toThrow();
  });
});
