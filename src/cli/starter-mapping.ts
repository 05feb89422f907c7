// A first mapping file from what `discover` found: the stages and fields whose names say what they are
// (Invoice, Payment Received, Invoice ID, Invoice URL, Paid, Country, in a few languages), the Kommo
// account's country, and the accounting organization's standard tax for it (none is guessed when no rate is
// clearly the standard one). What it cannot guess becomes a
// placeholder that `relay check` rejects with the list of what exists, plus a to-do line — never a guess
// that would invoice deals from the wrong stage.
import type { KommoFieldDefinition, KommoPipeline } from '../kommo/types.js';
import { normaliseCountry } from '../sync/country.js';

export interface StarterInput {
  pipelines: KommoPipeline[];
  leadFields: KommoFieldDefinition[];
  contactFields: KommoFieldDefinition[];
  accountCountry?: string | undefined;
  taxes: Array<{ name: string; percentage: number; isDefault: boolean }>;
}

export interface StarterMapping {
  mapping: Record<string, unknown>;
  /** What the operator still has to do before `relay check` passes, or should review. */
  todo: string[];
}

/** Kommo's built-in "Closed - won" and "Closed - lost" stages of every pipeline. */
const CLOSED_STAGES = new Set([142, 143]);
const INVOICE_STAGE = /invoice|invoic|rechnung|factur|fattur|fatura|сч[её]т/i;
const PAID_WORDS = /paid|payment|bezahlt|zahlung|pagad|pagamento|pay[ée]|оплач/i;
/** "Invoice ID", also with the accounting system's name before it ("Books Invoice ID"). */
const INVOICE_ID_FIELD = /^([a-z]{2,12}\s+)?(invoice|rechnung)\s*-?\s*(id|no\.?|nr\.?|number|nummer|#)$/i;
const INVOICE_URL_FIELD = /^([a-z]{2,12}\s+)?(invoice|rechnung)\s*-?\s*(url|link)$/i;
const PAID_FIELD = /^(paid|bezahlt|pagado|pay[ée]|оплачено|оплачен)$/i;
const COUNTRY_FIELD = /^(country|land|pays|pa[ií]s|paese|страна)$/i;

/** A name when it is unique among its peers (readable), else the ID (unambiguous). */
const refOf = (item: { id: number; name: string }, peers: Array<{ name: string }>) => (peers.filter((p) => same(p.name, item.name)).length === 1 ? item.name : item.id);
const same = (a: string, b: string) => a.trim().toLocaleLowerCase() === b.trim().toLocaleLowerCase();

export function starterMapping(input: StarterInput): StarterMapping {
  const todo: string[] = [];
  const stages = input.pipelines.flatMap((p) => p._embedded.statuses.filter((s) => !CLOSED_STAGES.has(s.id)).map((s) => ({ p, s })));
  const invoice = stages.find(({ s }) => INVOICE_STAGE.test(s.name) && !PAID_WORDS.test(s.name));
  let invoiceStage: unknown;
  if (invoice) {
    invoiceStage = { pipeline: refOf(invoice.p, input.pipelines), stage: refOf(invoice.s, invoice.p._embedded.statuses) };
  } else {
    invoiceStage = { pipeline: input.pipelines[0] ? refOf(input.pipelines[0], input.pipelines) : 'CHOOSE a pipeline', stage: 'CHOOSE the stage that creates the invoice' };
    todo.push('invoice.stages: no stage named like "Invoice" was found; write the stage whose deals get an invoice (see the stages listed above).');
  }
  const paidStage = stages.find(({ p, s }) => (!invoice || p.id === invoice.p.id) && PAID_WORDS.test(s.name));
  if (!paidStage) todo.push('payment.stage: no stage named like "Payment Received" was found; add one if paid deals should move (optional).');

  const field = (re: RegExp, list: KommoFieldDefinition[], types?: string[]) => list.find((f) => re.test(f.name.trim()) && (!types || types.includes(f.type)));
  const invoiceId = field(INVOICE_ID_FIELD, input.leadFields, ['text', 'numeric']);
  const invoiceUrl = field(INVOICE_URL_FIELD, input.leadFields, ['url', 'text']);
  if (!invoiceId || !invoiceUrl) {
    todo.push(
      `dealFields: create ${[!invoiceId && 'a text field "Invoice ID"', !invoiceUrl && 'a URL field "Invoice URL"'].filter(Boolean).join(' and ')} for deals in Kommo (Settings › Fields), where the relay writes the invoice.`,
    );
  }
  const paidField = field(PAID_FIELD, input.leadFields, ['checkbox', 'date', 'date_time', 'text']);
  const countryField = field(COUNTRY_FIELD, input.contactFields);
  const country = input.accountCountry ? normaliseCountry(input.accountCountry) : undefined;
  const defaultTax = input.taxes.find((t) => t.isDefault);

  const rules: Record<string, unknown> = {};
  if (country && defaultTax) {
    rules[country] = { tax: defaultTax.name };
    todo.push(`tax.rules: clients in ${country} get "${defaultTax.name}", every other country no tax; add a rule per country your accountant asks for.`);
  } else if (country && input.taxes.length) {
    // No rate is clearly the standard one (a backend may have no default tax): a guess could be an exempt or zero
    // rate for every home client. A placeholder instead, which `relay check` rejects with the rates that exist.
    rules[country] = { tax: `CHOOSE the tax for clients in ${country}` };
    todo.push(
      `tax.rules.${country}: no tax rate is clearly the standard one, so none is suggested; write the one clients in ${country} get, one of: ${input.taxes.map((t) => `"${t.name}" (${t.percentage} %)`).join(', ')} — or "none". Every other country gets no tax; add a rule per country your accountant asks for.`,
    );
  } else todo.push('tax.rules: every country gets no tax for now; add a rule per country, e.g. "DE": { "tax": "<a tax listed above>" }.');
  rules['*'] = 'none';
  if (!countryField) todo.push('tax.countryFrom: no contact field named "Country" was found; the client\'s country is then tax.defaultCountry.');

  const mapping: Record<string, unknown> = {
    invoice: { stages: [invoiceStage] },
    dealFields: {
      invoiceId: invoiceId ? refOf(invoiceId, input.leadFields) : 'Invoice ID',
      invoiceUrl: invoiceUrl ? refOf(invoiceUrl, input.leadFields) : 'Invoice URL',
    },
    payment: {
      ...(paidStage ? { stage: refOf(paidStage.s, paidStage.p._embedded.statuses) } : {}),
      ...(paidField ? { paidField: refOf(paidField, input.leadFields) } : {}),
    },
    tax: {
      countryFrom: countryField ? [{ entity: 'contact', field: refOf(countryField, input.contactFields) }] : [],
      ...(country ? { defaultCountry: country } : {}),
      rules,
    },
  };
  return { mapping, todo };
}
