// `relay webhooks` for Zoho: the workflow rule to set up by hand (Zoho Books has no API for workflow rules).
import type { ZohoSettings } from './settings.js';

export function zohoWebhookSetup(settings: Pick<ZohoSettings, 'ZOHO_WEBHOOK_SIGNING_SECRET'>, base: { url: string; secret: string }): { json: unknown; lines: string[] } {
  const url = `${base.url}/webhooks/zoho/${base.secret}`;
  const signed = settings.ZOHO_WEBHOOK_SIGNING_SECRET !== undefined;
  const lines = [
    'Zoho Books workflow webhook (Zoho has no API for it: set it up by hand)',
    '  1. In Zoho Books open Settings › Automation › Workflow Rules › New Rule; module: Invoices.',
    '  2. When: a payment is recorded (or: when Status is updated to Paid / Partially Paid).',
    '  3. Action: Webhook, with',
    `       URL     ${url}`,
    '       Method  POST',
    '       Body    the default (entire invoice record as JSON); form fields or a raw body also work if they contain invoice_id',
  ];
  if (signed) lines.push('       Secret  the value of ZOHO_WEBHOOK_SIGNING_SECRET in the relay\'s settings (checked in X-Zoho-Webhook-Signature)');
  lines.push('  4. Save and activate the rule.');
  return { json: { url, method: 'POST', body: 'default (entire invoice record as JSON)', signed }, lines };
}
