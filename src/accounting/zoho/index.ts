// Zoho Books as an accounting backend: its names, what it can do, its settings and mapping section. The
// runtime (client, port, connect flow, webhook source, CLI pieces) loads when the relay or the CLI starts.
import type { AccountingBackend } from '../backend.js';
import { zohoWebhookSetup } from './webhook-setup.js';
import { ZOHO_NAMES } from './names.js';
import { zohoCustomerTaxFields, zohoMappingSection, type ZohoMappingSection } from './mapping.js';
import { zohoSecrets, zohoSettingProblems, zohoSettingsSchema, zohoUsesOAuth, type ZohoSettings } from './settings.js';

export const zohoBackend: AccountingBackend<ZohoSettings, ZohoMappingSection> = {
  id: 'zoho',
  names: ZOHO_NAMES,
  capabilities: {
    // Workflow-rule webhooks (set up by hand, see `relay webhooks`); the reconciler catches what they miss.
    changes: 'webhooks',
    recurringInvoices: true,
    // POST /invoices?send=true emails the invoice as it is created.
    emailOnCreate: true,
    onlineLink: true,
    // Zoho Books has no idempotency keys: after an uncertain create the relay looks the invoice up by its stamp.
    idempotencyKeys: false,
    // POST /invoices/{id}/status/void, DELETE /invoices/{id} (a draft).
    cancelInvoices: true,
    // PUT /invoices/{id} for a draft; "Mark as Sent" or the email makes it final.
    reviewDrafts: true,
    // payment_options.payment_gateways on invoices and recurring invoices; the organization's gateways are read
    // from its latest invoice (the API lists them nowhere else; accounting.ts, payOnlineOffer).
    payOnline: true,
  },
  settings: { schema: zohoSettingsSchema, problems: zohoSettingProblems, usesOAuth: zohoUsesOAuth, secrets: zohoSecrets },
  mapping: { key: 'zoho', schema: zohoMappingSection, customerFields: zohoCustomerTaxFields },
  publicUrl: (settings) => settings.ZOHO_REDIRECT_URI?.replace(/\/connect\/zoho\/callback$/, ''),
  webhookSetup: zohoWebhookSetup,
  create: async (deps) => (await import('./side.js')).createZohoSide(deps),
};
