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
  },
  settings: { schema: waveSettingsSchema, problems: waveSettingProblems, usesOAuth: waveUsesOAuth, secrets: waveSecrets },
  mapping: { key: 'wave', schema: waveMappingSection, customerFields: waveCustomerTaxFields },
  publicUrl: (settings) => (settings.WAVE_REDIRECT_URI?.endsWith(WAVE_CALLBACK_PATH) ? settings.WAVE_REDIRECT_URI.slice(0, -WAVE_CALLBACK_PATH.length) : undefined),
  webhookSetup: waveWebhookSetup,
  create: async (deps) => (await import('./side.js')).createWaveSide(deps),
};
