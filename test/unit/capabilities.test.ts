// Start-up checks the mapping and settings against what the configured backend can do, with a message
// naming the section and the backend, before anything runs.
import { describe, expect, it } from 'vitest';
import type { AccountingBackend } from '../../src/accounting/backend.js';
import { zohoBackend } from '../../src/accounting/zoho/index.js';
import { ConfigError } from '../../src/config/env.js';
import { parseMapping } from '../../src/config/mapping.js';
import { checkSettingCapabilities } from '../../src/config/capabilities.js';

const mapping = {
  invoice: { stages: ['Invoice'] },
  dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 'Invoice URL' },
  retainer: { startStages: ['Retainer'], recurringIdField: 'Recurring ID' },
};

/** Zoho's module with some capabilities taken away: a backend that lacks them. */
const lacking = (capabilities: Partial<AccountingBackend['capabilities']>): AccountingBackend =>
  ({ ...zohoBackend, names: { ...zohoBackend.names, id: 'zoho', system: 'Lesser Books' }, capabilities: { ...zohoBackend.capabilities, ...capabilities } }) as AccountingBackend;

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('capabilities against the mapping', () => {
  it('Zoho Books can do all of it', () => {
    expect(parseMapping(mapping, 'mapping.json', zohoBackend as AccountingBackend).retainer?.startStages).toEqual(['Retainer']);
  });

  it('invoice.onLost "void" needs a backend that voids and deletes invoices; "note" and no option do not', () => {
    const lost = (onLost?: string) => ({ ...mapping, invoice: { ...mapping.invoice, ...(onLost ? { onLost } : {}) } });
    const backend = lacking({ cancelInvoices: undefined });
    expect(problemsOf(() => parseMapping(lost('void'), 'mapping.json', backend))).toEqual([
      'MAPPING_FILE mapping.json: invoice.onLost: Lesser Books invoices cannot be voided or deleted by the relay. Use "note" (a note on the deal and an item on /admin) (ACCOUNTING=zoho).',
    ]);
    expect(parseMapping(lost('note'), 'mapping.json', backend).invoice.onLost).toBe('note');
    expect(parseMapping(lost(), 'mapping.json', backend).invoice.onLost).toBeUndefined();
    expect(parseMapping(lost('void'), 'mapping.json', zohoBackend as AccountingBackend).invoice.onLost).toBe('void');
    expect(problemsOf(() => parseMapping(lost('archive'), 'mapping.json', zohoBackend as AccountingBackend))[0]).toMatch(/^MAPPING_FILE mapping\.json: invoice\.onLost: Invalid option/);
  });

  it('invoice.review needs a backend that updates and approves drafts', () => {
    const reviewed = { ...mapping, invoice: { ...mapping.invoice, review: { approvalStages: ['Approved'] } } };
    expect(problemsOf(() => parseMapping(reviewed, 'mapping.json', lacking({ reviewDrafts: undefined })))).toEqual([
      'MAPPING_FILE mapping.json: invoice.review: the relay cannot update or approve Lesser Books drafts, so invoices cannot wait for a review. Remove invoice.review (ACCOUNTING=zoho).',
    ]);
    expect(parseMapping(reviewed, 'mapping.json', zohoBackend as AccountingBackend).invoice.review).toEqual({ approvalStages: ['Approved'] });
    expect(parseMapping({ ...mapping, invoice: { ...mapping.invoice, review: {} } }, 'mapping.json', zohoBackend as AccountingBackend).invoice.review).toEqual({ approvalStages: [] });
    expect(parseMapping(mapping, 'mapping.json', zohoBackend as AccountingBackend).invoice.review).toBeUndefined();
  });

  it('a retainer section on a backend without recurring invoices stops start-up, naming both', () => {
    expect(problemsOf(() => parseMapping(mapping, 'mapping.json', lacking({ recurringInvoices: false })))).toEqual([
      'MAPPING_FILE mapping.json: retainer: Lesser Books has no recurring invoices, so deals cannot be billed on a schedule. Remove the retainer section (ACCOUNTING=zoho).',
    ]);
  });

  it('an invoice URL field on a backend whose invoices have no online link', () => {
    const { retainer: _, ...oneOff } = mapping;
    expect(problemsOf(() => parseMapping(oneOff, 'm', lacking({ onlineLink: false })))).toEqual([
      'MAPPING_FILE m: dealFields.invoiceUrl: Lesser Books gives invoices no online link to write on the deal. Remove dealFields.invoiceUrl (ACCOUNTING=zoho).',
    ]);
  });

  it("the backend's customer settings in a tax rule are checked by the backend's schema", () => {
    const taxed = { ...mapping, tax: { rules: { GB: { tax: 'VAT 20%', customer: { vat_treatment: 'uk' } }, DE: { tax: 'MwSt', customer: { account_code: '200' } } } } };
    expect(problemsOf(() => parseMapping(taxed, 'm')).join('\n')).toContain('tax.rules.DE');
  });

  it('a backend without webhooks may not have the reconciler turned off', () => {
    expect(checkSettingCapabilities(lacking({ changes: 'polling' }), 0)).toEqual([
      'RECONCILE_INTERVAL_SECONDS: may not be 0 with ACCOUNTING=zoho: Lesser Books sends no webhooks, so the reconciler is how payments reach the deals',
    ]);
    expect(checkSettingCapabilities(lacking({ changes: 'polling' }), 300)).toEqual([]);
    expect(checkSettingCapabilities(zohoBackend as AccountingBackend, 0)).toEqual([]);
  });
});
