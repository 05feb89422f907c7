// Wave as an accounting backend: its names, what it can do, its settings and mapping section. The runtime
// (client, port, connect flow, CLI pieces) loads when the relay or the CLI starts.
import type { AccountingBackend } from '../backend.js';
import { WAVE_NAMES } from './names.js';
import { waveCustomerTaxFields, waveMappingSection, type WaveMappingSection } from './mapping.js';
import { WAVE_CALLBACK_PATH, waveSecrets, waveSettingProblems, waveSettingsSchema, waveUsesOAuth, type WaveSettings } from './settings.js';
import { waveWebhookSetup } from './webhook-setup.js';

export const waveBackend: AccountingBackend<WaveSettings, WaveMappingSection> = {
  id: 'wave',
  names: WAVE_NAMES,
  capabilities: {
    // Wave's webhooks need a Pro business and their payloads are not published: the reconciler polls
    // invoices(modifiedAtAfter:) and compares amountPaid and status.
    changes: 'polling',
    // Wave's API has no recurring invoices (RecurringInvoice is an id only: nothing makes or lists them).
    recurringInvoices: false,
    // invoiceSend is a mutation of its own, after the create (and the approval).
    emailOnCreate: false,
    // Invoice.viewUrl: the page the customer sees.
    onlineLink: true,
    // No idempotency key: a lost create is found by its invoice number, a lost send by lastSentAt.
    idempotencyKeys: false,
    // invoice.onLost "void": Wave has no void; an invoice without payments (a draft or not) is deleted with
    // invoiceDelete, which is how Wave cancels one (nothing of it stays in Wave; the relay keeps what it deleted,
    // so it reads as void). One with a payment is kept.
    cancelInvoices: true,
    // invoice.review: invoicePatch rewrites the draft, invoiceApprove makes it SAVED; a person's approval (SAVED
    // or later), send (lastSentAt) or edit (modifiedAt) in Wave is seen by the reconciler's polling.
    reviewDrafts: true,
    // invoice.payOnline: "card" and "bank" (Wave Payments) on or off per invoice (disableCreditCardPayments,
    // disableBankPayments); whether the business has Wave Payments set up is not in the API.
    payOnline: true,
  },
  settings: { schema: waveSettingsSchema, problems: waveSettingProblems, usesOAuth: waveUsesOAuth, secrets: waveSecrets },
  mapping: { key: 'wave', schema: waveMappingSection, customerFields: waveCustomerTaxFields },
  publicUrl: (settings) => (settings.WAVE_REDIRECT_URI?.endsWith(WAVE_CALLBACK_PATH) ? settings.WAVE_REDIRECT_URI.slice(0, -WAVE_CALLBACK_PATH.length) : undefined),
  webhookSetup: waveWebhookSetup,
  create: async (deps) => (await import('./side.js')).createWaveSide(deps),
};
