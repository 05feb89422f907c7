// Xero as an accounting backend: its names, what it can do, its settings and mapping section. The runtime
// (client, port, connect flow, webhook source, CLI pieces) loads when the relay or the CLI starts.
import type { AccountingBackend } from '../backend.js';
import { XERO_NAMES } from './names.js';
import { xeroCustomerTaxFields, xeroMappingSection, xeroSchedule, type XeroMappingSection } from './mapping.js';
import { XERO_CALLBACK_PATH, xeroSecrets, xeroSettingProblems, xeroSettingsSchema, xeroUsesOAuth, type XeroSettings } from './settings.js';
import { xeroWebhookSetup } from './webhook-setup.js';

export const xeroBackend: AccountingBackend<XeroSettings, XeroMappingSection> = {
  id: 'xero',
  names: XERO_NAMES,
  capabilities: {
    // Signed INVOICE webhooks (ids only); payments have none, so the reconciler (If-Modified-Since) finds them.
    changes: 'webhooks',
    // Repeating invoices: no pause (stopping deletes the template, resuming makes a new one), weeks and months only.
    recurringInvoices: true,
    recurrence: (frequency, every) => {
      const schedule = xeroSchedule(frequency, every);
      return typeof schedule === 'string' ? schedule : undefined;
    },
    // POST /Invoices/{id}/Email is a call of its own, after the create.
    emailOnCreate: false,
    // GET /Invoices/{id}/OnlineInvoice, for approved invoices.
    onlineLink: true,
    // Idempotency-Key on every PUT and POST (kept by Xero for minutes; after that the Reference look-up).
    idempotencyKeys: true,
    // POST /Invoices/{id} with Status VOIDED (approved, unpaid) or DELETED (a draft).
    cancelInvoices: true,
    // POST /Invoices/{id}: LineItems of a DRAFT, Status AUTHORISED to approve it.
    reviewDrafts: true,
    // A branding theme with a payment service (Stripe, PayPal…) on the invoice: invoice.payOnline names the theme.
    payOnline: true,
  },
  settings: { schema: xeroSettingsSchema, problems: xeroSettingProblems, usesOAuth: xeroUsesOAuth, secrets: xeroSecrets },
  mapping: { key: 'xero', schema: xeroMappingSection, customerFields: xeroCustomerTaxFields },
  publicUrl: (settings) => (settings.XERO_REDIRECT_URI?.endsWith(XERO_CALLBACK_PATH) ? settings.XERO_REDIRECT_URI.slice(0, -XERO_CALLBACK_PATH.length) : undefined),
  webhookSetup: xeroWebhookSetup,
  create: async (deps) => (await import('./side.js')).createXeroSide(deps),
};
