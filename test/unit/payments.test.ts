import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { currencyDigits, formatAmount, formatMinor, toMinor } from '../../src/sync/money.js';
import { zohoVersion } from '../../src/accounting/zoho/accounting.js';
import { dealIdFromTemplate } from '../../src/sync/deal-template.js';
import { paymentNotes } from '../../src/sync/payment-to-deal.js';
import { parseZohoWebhook, ZohoWebhookError, zohoSignatureValid } from '../../src/accounting/zoho/webhook.js';

describe('money', () => {
  it.each([
    [1234.5, 'EUR', '1,234.50 EUR'],
    [0.1 + 0.2, 'EUR', '0.30 EUR'],
    [1_000_000, 'USD', '1,000,000.00 USD'],
    [1500, 'JPY', '1,500 JPY'],
    [12.345, 'KWD', '12.345 KWD'],
    [999.995, 'GBP', '1,000.00 GBP'],
    [-20, 'EUR', '-20.00 EUR'],
    [7, 'XYZ', '7.00 XYZ'],
  ])('%d %s -> %s', (amount, code, text) => {
    expect(formatAmount(amount, code)).toBe(text);
  });

  it('sums in minor units without float drift', () => {
    const parts = [0.1, 0.2, 0.3, 0.4].map((a) => toMinor(a, 2));
    expect(parts.reduce((a, b) => a + b, 0n)).toBe(100n);
    expect(formatMinor(100n, 2, 'EUR')).toBe('1.00 EUR');
    expect(currencyDigits('JPY')).toBe(0);
  });
});

describe('payment notes', () => {
  const invoice = { number: 'INV-000123', total: 1234.5, currencyCode: 'EUR' };

  it('one full payment', () => {
    expect(paymentNotes(invoice, [{ paymentId: '9834000000000000001', amount: 1234.5, date: '2026-11-20' }], { short: 'Zoho' }).map((n) => n.text)).toEqual([
      'Payment received: 1,234.50 EUR on 2026-11-20 for invoice INV-000123. (Zoho payment 9834000000000000001)',
    ]);
  });

  it('partial payments in date order, each with the balance left after it', () => {
    const notes = paymentNotes(invoice, [
      { paymentId: '3', amount: 34.5, date: '2026-11-22' },
      { paymentId: '1', amount: 1000, date: '2026-11-20' },
      { paymentId: '2', amount: 200, date: '2026-11-21' },
    ], { short: 'Zoho' });
    expect(notes.map((n) => n.text)).toEqual([
      'Partial payment received: 1,000.00 EUR on 2026-11-20 for invoice INV-000123; 234.50 EUR still due. (Zoho payment 1)',
      'Partial payment received: 200.00 EUR on 2026-11-21 for invoice INV-000123; 34.50 EUR still due. (Zoho payment 2)',
      'Payment received: 34.50 EUR on 2026-11-22 for invoice INV-000123. (Zoho payment 3)',
    ]);
  });

  it('the invoice version tells two payments in one second apart', () => {
    expect(zohoVersion('2026-11-20T10:00:00+0000', 100)).not.toBe(zohoVersion('2026-11-20T10:00:00+0000', 0));
  });
});

describe('deal ID from the reference number', () => {
  it.each([
    ['KOMMO-31700125', 'KOMMO-{deal_id}', 31700125],
    ['KOMMO-31700125-2', 'KOMMO-{deal_id}', 31700125],
    [' KOMMO-5 ', 'KOMMO-{deal_id}', 5],
    ['Deal 77 (Kommo)', 'Deal {deal_id} (Kommo)', 77],
    ['PO-7', 'KOMMO-{deal_id}', undefined],
    ['KOMMO-abc', 'KOMMO-{deal_id}', undefined],
    ['XKOMMO-5', 'KOMMO-{deal_id}', undefined],
  ])('%j with %j -> %j', (ref, template, id) => {
    expect(dealIdFromTemplate(ref, template)).toBe(id);
  });
});

describe('Zoho workflow webhook bodies', () => {
  it.each([
    ['default record JSON', '{"invoice":{"invoice_id":9834000000123456789,"last_modified_time":"2026-11-20T10:00:00+0000","total":10.5}}', 'application/json', ['9834000000123456789'], '2026-11-20T10:00:00+0000'],
    ['raw body', '{"invoice_id":"9834000000123456789","event":"payment"}', 'application/json', ['9834000000123456789'], undefined],
    ['form fields', 'invoice_id=9834000000123456789&status=paid', 'application/x-www-form-urlencoded', ['9834000000123456789'], undefined],
    ['JSONString form field', `JSONString=${encodeURIComponent('{"invoice":{"invoice_id":"9834000000123456789"}}')}`, 'application/x-www-form-urlencoded', ['9834000000123456789'], undefined],
    ['payment record with several invoices', '{"payment":{"payment_id":"1","invoices":[{"invoice_id":"11"},{"invoice_id":"12"},{"invoice_id":"11"}]}}', 'application/json', ['11', '12'], undefined],
    ['JSON without a content type', '{"invoice_id":"42"}', '', ['42'], undefined],
  ])('%s', (_name, raw, type, ids, lastModified) => {
    const event = parseZohoWebhook(raw, type);
    expect(event.invoiceIds).toEqual(ids);
    expect(event.lastModified).toBe(lastModified);
    expect(event.invoices.map((i) => i.invoiceId)).toEqual(ids);
  });

  it.each([
    ['', 'empty'],
    ['{"invoice":{}}', 'No invoice_id'],
    ['{"invoice_id":"12abc"}', 'not a Zoho ID'],
    ['{"invoice_id":', 'not valid JSON'],
    ['status=paid', 'No invoice_id'],
    ['{"payment":{"invoices":""}}', 'No invoice_id'],
    ['{"payment":{"invoices":{"a":1}},"invoice":"x","data":7}', 'No invoice_id'],
    ['{"invoice":{"invoice_id":{"nested":1}}}', 'No invoice_id'],
    ['[1,2]', 'No invoice_id'],
  ])('%j is refused: %s', (raw, message) => {
    expect(() => parseZohoWebhook(raw, raw.startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded')).toThrow(ZohoWebhookError);
    expect(() => parseZohoWebhook(raw, raw.startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded')).toThrow(message);
  });

  it('form fields are read as URLSearchParams reads them (first of each, +, percent escapes good and bad)', () => {
    const key = fc.constantFrom('invoice_id', 'recurring_invoice_id', 'reference_number', 'cf_kommo_deal_id', 'invoice%5Fid', 'cf%5Fdeal', 'status', 'x');
    const value = fc.string({ unit: fc.constantFrom(...'1234567890 +%2AbF&=é'.split('')), maxLength: 12 });
    const outcome = (f: () => unknown) => {
      try {
        return f();
      } catch (err) {
        return (err as Error).message;
      }
    };
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 6 }), (pairs) => {
        const text = pairs.map(([k, v]) => `${k}=${v}`).join('&');
        if (text.trim() === '') return; // an empty body has its own message
        const reference: Record<string, string> = {};
        for (const [k, v] of new URLSearchParams(text)) if (!(k in reference)) reference[k] = v;
        expect(outcome(() => parseZohoWebhook(text, 'application/x-www-form-urlencoded'))).toEqual(outcome(() => parseZohoWebhook(JSON.stringify(reference), 'application/json')));
      }),
      { numRuns: 500 },
    );
  });

  it('checks the HMAC-SHA256 signature of the raw body', () => {
    const body = '{"invoice":{"invoice_id":"1"}}';
    const sig = createHmac('sha256', 's3cret').update(body).digest('hex');
    expect(zohoSignatureValid(body, sig, 's3cret')).toBe(true);
    expect(zohoSignatureValid(body, `sha256=${sig.toUpperCase()}`, 's3cret')).toBe(true);
    expect(zohoSignatureValid(`${body} `, sig, 's3cret')).toBe(false);
    expect(zohoSignatureValid(body, sig, 'other')).toBe(false);
    expect(zohoSignatureValid(body, undefined, 's3cret')).toBe(false);
    expect(zohoSignatureValid(body, 'abc', 's3cret')).toBe(false);
  });
});
