// What a Zoho Books workflow webhook can carry: the default record JSON (`{"invoice": {...}}`), form
// fields, or a user-defined raw body. We take the invoice ID(s) from it, plus what the body says about
// where each invoice came from (recurring profile, reference, custom fields) so the intake can tell the
// relay's invoices from the rest without an API call. Amounts and statuses are never trusted: an invoice
// of ours is re-read through the API.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { JsonLimitError, parseLimitedJson, type JsonLimits } from '../../net/json-body.js';

export class ZohoWebhookError extends Error {
  constructor(
    message: string,
    /** 422: a well-formed body over a cap; 400: anything else. */
    readonly status: 400 | 422 = 400,
  ) {
    super(message);
  }
}

/** Hints from the body about one invoice: claims to check against the relay's own records, nothing more. */
export interface ZohoWebhookInvoice {
  invoiceId: string;
  recurringInvoiceId?: string;
  referenceNumber?: string;
  /** Custom field values by api_name (`cf_kommo_deal_id`), from `custom_fields`, `custom_field_hash` or top-level `cf_*` keys. */
  customFields: Record<string, string>;
}

export interface ZohoWebhookEvent {
  invoiceIds: string[];
  invoices: ZohoWebhookInvoice[];
  /** The invoice's last_modified_time when the body carries it (default record JSON does). */
  lastModified?: string;
}

/** A payment applied to many invoices lists them all; no real payment comes near this. Bounds the work of one body. */
export const MAX_INVOICES_PER_WEBHOOK = 100;
/** A Zoho invoice record nests a few levels and has a few hundred keys; a body far beyond is not one. */
export const ZOHO_BODY_LIMITS: JsonLimits = { maxDepth: 64, maxKeys: 5000 };
const MAX_CUSTOM_FIELDS = 200;

const ID = /^\d{1,25}$/;

export function parseZohoWebhook(raw: string, contentType = ''): ZohoWebhookEvent {
  const text = raw.trim();
  if (!text) throw new ZohoWebhookError('The body is empty: the workflow webhook must send the invoice (default record JSON) or at least invoice_id.');
  let data: unknown;
  if (/json/i.test(contentType) || text.startsWith('{')) {
    data = parseJson(text, 'The body is not valid JSON.');
  } else {
    const form = formFields(text);
    // Zoho's form format may wrap the record in a JSONString field.
    data = form.JSONString ? parseJson(form.JSONString, 'The JSONString field is not valid JSON.') : form;
  }
  if (typeof data !== 'object' || data === null) throw new ZohoWebhookError('The body is not valid JSON.');
  // Any field may be missing or of another type in a user-defined body: read defensively, never assume.
  const record = data as Record<string, unknown>;
  const invoice = objectAt(record.invoice) ?? objectAt(objectAt(record.data)?.invoice);
  const payment = objectAt(record.payment) ?? objectAt(record.customerpayment);
  const applied = Array.isArray(payment?.invoices) ? payment.invoices : [];
  const candidates: Array<Record<string, unknown> | undefined> = [invoice, record, ...applied.map(objectAt)];
  const byId = new Map<string, ZohoWebhookInvoice>();
  for (const source of candidates) {
    const id = idText(source?.invoice_id);
    if (id === undefined || byId.has(id)) continue;
    if (!ID.test(id)) throw new ZohoWebhookError(`invoice_id "${id.slice(0, 40)}" is not a Zoho ID (digits only).`);
    if (byId.size === MAX_INVOICES_PER_WEBHOOK) {
      throw new ZohoWebhookError(`The body names more than ${MAX_INVOICES_PER_WEBHOOK} invoices; the relay takes at most ${MAX_INVOICES_PER_WEBHOOK} per webhook. Send one webhook per invoice or payment.`, 422);
    }
    byId.set(id, hintsOf(id, source!, source === invoice || source === record ? record : undefined));
  }
  if (byId.size === 0) {
    throw new ZohoWebhookError('No invoice_id in the body: send the default record JSON, or a body with "invoice_id": "${Invoice ID}".');
  }
  const lastModified = typeof invoice?.last_modified_time === 'string' ? invoice.last_modified_time : undefined;
  const invoices = [...byId.values()];
  return { invoiceIds: invoices.map((i) => i.invoiceId), invoices, lastModified };
}

/** X-Zoho-Webhook-Signature: hex HMAC-SHA256 of the raw body (the scheme Zoho Billing documents). */
export function zohoSignatureValid(raw: string, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const given = header.trim().replace(/^sha256=/i, '').toLowerCase();
  const expected = createHmac('sha256', secret).update(raw).digest('hex');
  if (given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

function parseJson(text: string, invalid: string): unknown {
  try {
    return parseLimitedJson(text, ZOHO_BODY_LIMITS);
  } catch (err) {
    if (err instanceof JsonLimitError) throw new ZohoWebhookError(`The body is not a Zoho record: ${err.message}.`);
    throw new ZohoWebhookError(invalid);
  }
}

const FORM_FIELDS = new Set(['invoice_id', 'recurring_invoice_id', 'reference_number', 'JSONString']);

/**
 * The form fields the relay reads (the first of each, up to 200 custom fields), decoded as URLSearchParams
 * would. One pass over the pieces, and only the pieces it keeps are decoded: a form of 20,000 keys costs
 * a split, not 20,000 decoded pairs and an object of 20,000 keys.
 */
function formFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let customFields = 0;
  for (const piece of text.split('&')) {
    const eq = piece.indexOf('=');
    const rawKey = eq < 0 ? piece : piece.slice(0, eq);
    const key = rawKey.includes('%') || rawKey.includes('+') ? decodeFormPart(rawKey) : rawKey;
    const custom = key.startsWith('cf_');
    if (!(FORM_FIELDS.has(key) || (custom && customFields < MAX_CUSTOM_FIELDS)) || Object.hasOwn(fields, key)) continue;
    if (custom) customFields++;
    fields[key] = eq < 0 ? '' : decodeFormPart(piece.slice(eq + 1));
  }
  return fields;
}

/** `+` is a space, then percent-decoding; a malformed escape is left as it is, as URLSearchParams does. */
function decodeFormPart(raw: string): string {
  const spaced = raw.replaceAll('+', ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return new URLSearchParams(`x=${raw}`).get('x') ?? raw;
  }
}

function hintsOf(invoiceId: string, source: Record<string, unknown>, outer: Record<string, unknown> | undefined): ZohoWebhookInvoice {
  const pick = (key: string) => idText(source[key]) ?? (outer ? idText(outer[key]) : undefined);
  const recurringInvoiceId = pick('recurring_invoice_id');
  const referenceNumber = pick('reference_number');
  const customFields: Record<string, string> = {};
  let kept = 0;
  const put = (name: unknown, value: unknown) => {
    const text = idText(value);
    if (typeof name !== 'string' || !name.startsWith('cf_') || text === undefined || Object.hasOwn(customFields, name) || kept >= MAX_CUSTOM_FIELDS) return;
    customFields[name] = text;
    kept++;
  };
  for (const holder of outer && outer !== source ? [source, outer] : [source]) {
    if (Array.isArray(holder.custom_fields)) for (const f of holder.custom_fields.slice(0, MAX_CUSTOM_FIELDS)) put(objectAt(f)?.api_name, objectAt(f)?.value);
    const hash = objectAt(holder.custom_field_hash);
    if (hash) for (const key of Object.keys(hash).slice(0, MAX_CUSTOM_FIELDS)) put(key, hash[key]);
    for (const key of Object.keys(holder).slice(0, ZOHO_BODY_LIMITS.maxKeys)) if (key.startsWith('cf_')) put(key, holder[key]);
  }
  return {
    invoiceId,
    ...(recurringInvoiceId ? { recurringInvoiceId } : {}),
    ...(referenceNumber ? { referenceNumber } : {}),
    customFields,
  };
}

function idText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  return text === '' ? undefined : text;
}

function objectAt(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
