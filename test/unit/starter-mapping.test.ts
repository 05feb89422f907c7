// The starter mapping `relay discover` prints: what it recognises becomes a mapping the relay's own
// resolution accepts; what it cannot recognise becomes a placeholder that resolution rejects with the list
// of what exists, plus a to-do line.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/env.js';
import { parseMapping } from '../../src/config/mapping.js';
import { resolveMapping } from '../../src/config/resolve-mapping.js';
import { resolveTaxRules } from '../../src/sync/tax-rules.js';
import { starterMapping, type StarterInput } from '../../src/cli/starter-mapping.js';
import type { KommoFieldDefinition, KommoPipeline } from '../../src/kommo/types.js';

const pipeline = (id: number, name: string, stages: string[]): KommoPipeline => ({
  id,
  name,
  _embedded: { statuses: [...stages.map((s, i) => ({ id: id * 100 + i, name: s, pipeline_id: id })), { id: 142, name: 'Closed - won', pipeline_id: id }, { id: 143, name: 'Closed - lost', pipeline_id: id }] },
});
const field = (id: number, name: string, type: string, code?: string): KommoFieldDefinition => ({ id, name, type, ...(code ? { code } : {}) });

const english: StarterInput = {
  pipelines: [pipeline(1, 'Sales', ['Incoming', 'Invoice', 'Payment Received'])],
  leadFields: [field(11, 'Invoice ID', 'text'), field(12, 'Invoice URL', 'url'), field(13, 'Paid', 'checkbox'), field(14, 'Recurring invoice ID', 'text')],
  contactFields: [field(21, 'Email', 'multitext', 'EMAIL'), field(22, 'Country', 'text')],
  accountCountry: 'DE',
  taxes: [
    { name: 'VAT 7%', percentage: 7, isDefault: false },
    { name: 'VAT 19%', percentage: 19, isDefault: true },
  ],
};

describe('starterMapping', () => {
  it('recognises the stages and fields by name and proposes the default tax for the home country', () => {
    const { mapping, todo } = starterMapping(english);
    expect(mapping).toEqual({
      invoice: { stages: [{ pipeline: 'Sales', stage: 'Invoice' }] },
      dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 'Invoice URL' },
      payment: { stage: 'Payment Received', paidField: 'Paid' },
      tax: { countryFrom: [{ entity: 'contact', field: 'Country' }], defaultCountry: 'DE', rules: { DE: { tax: 'VAT 19%' }, '*': 'none' } },
    });
    expect(todo).toEqual(['tax.rules: clients in DE get "VAT 19%", every other country no tax; add a rule per country your accountant asks for.']);
    // The relay's own resolution accepts it, against Kommo and against Zoho.
    const parsed = parseMapping(mapping, 'starter');
    const resolved = resolveMapping(parsed, { pipelines: english.pipelines, leadFields: english.leadFields, contactFields: english.contactFields });
    expect(resolved.invoiceStages).toEqual([{ pipelineId: 1, statusId: 101, label: 'Sales / Invoice' }]);
    expect(resolved.dealFields.invoiceId.id).toBe(11);
    expect(resolveTaxRules(parsed.tax, { taxes: [{ id: 't19', name: 'VAT 19%', percentage: 19 }], exemptions: [] }, 'Zoho Books').get('DE')).toMatchObject({ kind: 'tax', taxId: 't19' });
  });

  it('German names, a stage name repeated in two pipelines (written with its pipeline), a duplicate field name (written as its ID)', () => {
    const { mapping } = starterMapping({
      pipelines: [pipeline(1, 'Vertrieb', ['Neu', 'Rechnung', 'Bezahlt']), pipeline(2, 'Service', ['Neu', 'Rechnung'])],
      leadFields: [field(11, 'Rechnungsnummer', 'text'), field(12, 'Rechnung-ID', 'text'), field(13, 'Rechnung Link', 'url'), field(14, 'Bezahlt', 'checkbox'), field(15, 'Bezahlt', 'date')],
      contactFields: [field(22, 'Land', 'text')],
      accountCountry: 'Deutschland',
      taxes: [],
    });
    expect(mapping).toEqual({
      invoice: { stages: [{ pipeline: 'Vertrieb', stage: 'Rechnung' }] },
      dealFields: { invoiceId: 'Rechnung-ID', invoiceUrl: 'Rechnung Link' },
      payment: { stage: 'Bezahlt', paidField: 14 },
      tax: { countryFrom: [{ entity: 'contact', field: 'Land' }], defaultCountry: 'DE', rules: { '*': 'none' } },
    });
  });

  it('nothing recognisable: placeholders that the relay rejects with what exists, and a to-do for each', () => {
    const input: StarterInput = { pipelines: [pipeline(1, 'Leads', ['New', 'Won over'])], leadFields: [field(11, 'Budget', 'numeric')], contactFields: [], taxes: [] };
    const { mapping, todo } = starterMapping(input);
    expect(mapping).toEqual({
      invoice: { stages: [{ pipeline: 'Leads', stage: 'CHOOSE the stage that creates the invoice' }] },
      dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 'Invoice URL' },
      payment: {},
      tax: { countryFrom: [], rules: { '*': 'none' } },
    });
    expect(todo).toEqual([
      'invoice.stages: no stage named like "Invoice" was found; write the stage whose deals get an invoice (see the stages listed above).',
      'payment.stage: no stage named like "Payment Received" was found; add one if paid deals should move (optional).',
      'dealFields: create a text field "Invoice ID" and a URL field "Invoice URL" for deals in Kommo (Settings › Fields), where the relay writes the invoice.',
      'tax.rules: every country gets no tax for now; add a rule per country, e.g. "DE": { "tax": "<a tax listed above>" }.',
      'tax.countryFrom: no contact field named "Country" was found; the client\'s country is then tax.defaultCountry.',
    ]);
    let problems: string[] = [];
    try {
      resolveMapping(parseMapping(mapping, 'starter'), { pipelines: input.pipelines, leadFields: input.leadFields, contactFields: [] });
    } catch (err) {
      problems = (err as ConfigError).problems;
    }
    expect(problems).toEqual([
      `MAPPING_FILE invoice.stages[0]: no stage "CHOOSE the stage that creates the invoice" in pipeline "Leads". Stages: Leads (1): 'New' (100), 'Won over' (101), 'Closed - won' (142), 'Closed - lost' (143)`,
      `MAPPING_FILE dealFields.invoiceId: no lead field "Invoice ID". Lead fields: 'Budget' (11, numeric)`,
      `MAPPING_FILE dealFields.invoiceUrl: no lead field "Invoice URL". Lead fields: 'Budget' (11, numeric)`,
    ]);
  });
});
