// Xero's webhooks: one signed POST per batch of events, ids only (the relay re-reads each resource with its
// tenant). `x-xero-signature` is base64(HMAC-SHA256(raw body, webhook key)). Xero checks a new or changed
// webhook with an "intent to receive": signed bodies with no events, some with a wrong signature; the answer
// must be 200 when the signature is right and 401 when it is not, with an empty body, within 5 seconds.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { XeroWebhookEvent } from './types.js';

/** Above what Xero batches; a body with more is refused rather than half-read. */
export const MAX_XERO_EVENTS = 500;
/** A body this size holds MAX_XERO_EVENTS events with room to spare; nothing larger is parsed. */
export const MAX_XERO_WEBHOOK_BYTES = 512 * 1024;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CATEGORIES: ReadonlySet<string> = new Set<XeroWebhookEvent['eventCategory']>(['INVOICE', 'CONTACT', 'CREDITNOTE', 'SUBSCRIPTION']);
const TYPES: ReadonlySet<string> = new Set<XeroWebhookEvent['eventType']>(['CREATE', 'UPDATE']);

export class XeroWebhookError extends Error {}

/** One event as the relay uses it: which resource of which organisation changed. */
export type XeroEventRef = Pick<XeroWebhookEvent, 'tenantId' | 'resourceId' | 'eventCategory' | 'eventType' | 'eventDateUtc'>;

export interface XeroWebhookBatch {
  events: XeroEventRef[];
  /** No events: Xero's intent-to-receive check (or an empty batch), nothing to do beyond answering 200. */
  intentToReceive: boolean;
  firstEventSequence: number | undefined;
  lastEventSequence: number | undefined;
  /** Events left out because a field was missing or not what the contract allows. */
  ignored: number;
}

/**
 * True when `header` is the signature of exactly these bytes. The HMAC is computed over the raw body as
 * received (a Buffer, ideally: a string is taken as its UTF-8 bytes), never over re-serialised JSON.
 */
export function xeroSignatureValid(raw: Buffer | string, header: string | string[] | undefined, webhookKey: string): boolean {
  const given = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!given || !webhookKey) return false;
  const expected = createHmac('sha256', webhookKey).update(raw).digest('base64');
  // Base64 text compared as text: decoding first would accept other spellings (padding, stray characters).
  if (given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

/** The status Xero must get: 200 for a rightly signed body (events or intent to receive), 401 otherwise. */
export function xeroWebhookStatus(raw: Buffer | string, header: string | string[] | undefined, webhookKey: string): 200 | 401 {
  return xeroSignatureValid(raw, header, webhookKey) ? 200 : 401;
}

/** Reads a (verified) body: bounded size, at most MAX_XERO_EVENTS events, one linear pass over them. */
export function parseXeroWebhook(raw: Buffer | string): XeroWebhookBatch {
  const bytes = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (bytes > MAX_XERO_WEBHOOK_BYTES) throw new XeroWebhookError(`The body is ${bytes} bytes; a Xero webhook body is at most ${MAX_XERO_WEBHOOK_BYTES}.`);
  let data: unknown;
  try {
    data = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    throw new XeroWebhookError('The body is not JSON.');
  }
  if (!isObject(data) || !Array.isArray(data.events)) throw new XeroWebhookError('The body has no "events" list.');
  if (data.events.length > MAX_XERO_EVENTS) throw new XeroWebhookError(`The body carries ${data.events.length} events; at most ${MAX_XERO_EVENTS} are taken.`);
  const events: XeroEventRef[] = [];
  let ignored = 0;
  for (const item of data.events as unknown[]) {
    const event = eventOf(item);
    if (event) events.push(event);
    else ignored++;
  }
  return {
    events,
    intentToReceive: data.events.length === 0,
    firstEventSequence: sequence(data.firstEventSequence),
    lastEventSequence: sequence(data.lastEventSequence),
    ignored,
  };
}

function eventOf(item: unknown): XeroEventRef | undefined {
  if (!isObject(item)) return undefined;
  const { tenantId, resourceId, eventCategory, eventType, eventDateUtc } = item;
  if (typeof tenantId !== 'string' || !GUID.test(tenantId)) return undefined;
  if (typeof resourceId !== 'string' || !GUID.test(resourceId)) return undefined;
  if (typeof eventCategory !== 'string' || !CATEGORIES.has(eventCategory)) return undefined;
  if (typeof eventType !== 'string' || !TYPES.has(eventType)) return undefined;
  return {
    tenantId: tenantId.toLowerCase(),
    resourceId: resourceId.toLowerCase(),
    eventCategory: eventCategory as XeroEventRef['eventCategory'],
    eventType: eventType as XeroEventRef['eventType'],
    eventDateUtc: typeof eventDateUtc === 'string' ? eventDateUtc.slice(0, 40) : '',
  };
}

const sequence = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
