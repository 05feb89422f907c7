// `relay webhooks` for Xero: the webhook to create by hand in Xero's developer portal (one per app, for every
// organisation connected to it; Xero has no API for it), and where its key goes. No API call.
import type { XeroSettings } from './settings.js';

export function xeroWebhookSetup(settings: Pick<XeroSettings, 'XERO_WEBHOOK_KEY'>, base: { url: string; secret: string }): { json: unknown; lines: string[] } {
  const url = `${base.url}/webhooks/xero/${base.secret}`;
  const keySet = settings.XERO_WEBHOOK_KEY !== undefined && settings.XERO_WEBHOOK_KEY !== '';
  const lines = [
    'Xero webhook (Xero has no API for it: set it up by hand, once per Xero app)',
    '  1. Open developer.xero.com › My Apps › your app › Webhooks.',
    '  2. Events: tick Invoices (the relay ignores contact events).',
    `  3. Delivery URL: ${url}`,
    '     (HTTPS on port 443: Xero delivers nowhere else.)',
    '  4. Save. Xero shows a webhook key: put it into XERO_WEBHOOK_KEY in the relay\'s settings and restart the relay.',
    '  5. Back in Xero, send the "intent to receive" check; it turns OK once the relay answers it with that key.',
    keySet
      ? '  XERO_WEBHOOK_KEY is set: the relay checks every delivery\'s x-xero-signature with it.'
      : '  XERO_WEBHOOK_KEY is not set yet: until it is, the relay refuses every Xero delivery (401) and Xero\'s check fails.',
    '  A payment reaches the relay as its invoice\'s UPDATE event. An event about an invoice Xero generated from a repeating',
    '  template (it carries only the invoice\'s ID) makes the reconciler sweep within seconds while a retainer is active.',
    '  Events Xero sends about the relay\'s own writes (its create and email) start nothing; a payment made within 30 s of',
    '  the relay\'s last write on an invoice is brought by the reconciler\'s next sweep.',
  ];
  return { json: { url, method: 'POST', events: ['INVOICE'], where: 'developer.xero.com > My Apps > your app > Webhooks', keySetting: 'XERO_WEBHOOK_KEY', keySet }, lines };
}
