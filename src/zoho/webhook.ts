// What a Zoho Books workflow webhook can carry: the default record JSON (`{"invoice": {...}}`), form
// fields, or a user-defined raw body. We only take the invoice ID(s) from it and re-read the invoice
// through the API; the body's amounts and statuses are never trusted.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseBody } from '../net/http.js';

export class ZohoWebhookError extends Error {}

export interface ZohoWebhookEvent {
  invoiceIds: string[];
  /** The invoice's last_modified_time when the body carries it (default record JSON does). */
  lastModified?: string;
}

const ID = /^\d{1,25}$/;

export function parseZohoWebhook(raw: string, contentType = ''): ZohoWebhookEvent {
  const text = raw.trim();
  if (!text) throw new ZohoWebhookError('The body is empty: the workflow webhook must send the invoice (default record JSON) or at least invoice_id.');
  let data: unknown;
  if (/json/i.test(contentType) || text.startsWith('{')) {
    data = parseBody<unknown>(text);
    if (typeof data !== 'object' || data === null) throw new ZohoWebhookError('The body is not valid JSON.');
  } else {
    const form = new URLSearchParams(text);
    // Zoho's form format may wrap the record in a JSONString field.
    const wrapped = form.get('JSONString');
    data = wrapped ? parseBody<unknown>(wrapped) : Object.fromEntries(form);
    if (typeof data !== 'object' || data === null) throw new ZohoWebhookError('The JSONString field is not valid JSON.');
  }
  // Any field may be missing or of another type in a user-defined body: read defensively, never assume.
  const record = data as Record<string, unknown>;
  const invoice = objectAt(record.invoice) ?? objectAt(objectAt(record.data)?.invoice);
  const payment = objectAt(record.payment) ?? objectAt(record.customerpayment);
  const applied = Array.isArray(payment?.invoices) ? payment.invoices : [];
  const candidates = [invoice?.invoice_id, record.invoice_id, ...applied.map((i) => objectAt(i)?.invoice_id)];
  const ids = [...new Set(candidates.filter((v) => typeof v === 'string' || typeof v === 'number').map(String).filter((v) => v !== ''))];
  if (ids.length === 0) {
    throw new ZohoWebhookError('No invoice_id in the body: send the default record JSON, or a body with "invoice_id": "${Invoice ID}".');
  }
  const bad = ids.find((id) => !ID.test(id));
  if (bad) throw new ZohoWebhookError(`invoice_id "${bad.slice(0, 40)}" is not a Zoho ID (digits only).`);
  const lastModified = typeof invoice?.last_modified_time === 'string' ? invoice.last_modified_time : undefined;
  return { invoiceIds: ids, lastModified };
}

/** X-Zoho-Webhook-Signature: hex HMAC-SHA256 of the raw body (the scheme Zoho Billing documents). */
export function zohoSignatureValid(raw: string, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const given = header.trim().replace(/^sha256=/i, '').toLowerCase();
  const expected = createHmac('sha256', secret).update(raw).digest('hex');
  if (given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

function objectAt(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
