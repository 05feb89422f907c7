// Zoho Books as the relay's accounting port.
import { permanent, RelayError, retryable } from '../../errors.js';
import type { RecurringDraft, RecurringProfile } from '../../sync/ports.js';
import type { AccountingInvoice, AccountingInvoiceDetail, AccountingReference, AccountingPayment, AccountingPort, Customer, CustomerInput, InvoiceDraft } from '../../sync/ports.js';
import type { ZohoBooksClient } from './client.js';
import type { ZohoContact, ZohoCreatedInvoice, ZohoInvoice, ZohoListedContact } from './types.js';

/** Zoho Books: "The contact name already exists" (display names are unique per organization). */
const DUPLICATE_CONTACT_NAME = 3062;
/** Zoho: "Invoice number already exists" (documented for Zoho Invoice; Books answers the same in our tests). */
const DUPLICATE_INVOICE_NUMBER = 1001;

export class ZohoAccounting implements AccountingPort {
  constructor(private readonly client: ZohoBooksClient) {}

  async findCustomerByEmail(email: string): Promise<Customer | undefined> {
    const wanted = email.trim().toLowerCase();
    const contacts = await this.client.findContactsByEmail(wanted);
    // Zoho's filter is a search; keep only an exact (case-insensitive) match on a contact person.
    const match = contacts.find((c) => contactEmails(c).includes(wanted));
    return match ? toCustomer(match) : undefined;
  }

  async createCustomer(input: CustomerInput): Promise<Customer> {
    const body = (name: string) => ({
      contact_name: name,
      company_name: input.companyName,
      contact_type: 'customer',
      customer_sub_type: input.companyName ? 'business' : 'individual',
      currency_id: input.currencyId,
      billing_address: input.country ? { country: countryName(input.country) } : undefined,
      ...(input.taxFields ?? {}),
      contact_persons: [
        {
          first_name: input.firstName,
          last_name: input.lastName,
          email: input.email,
          phone: input.phone,
          is_primary_contact: true,
        },
      ],
    });
    try {
      return toCustomer(await this.client.createContact(stripUndefined(body(input.name))));
    } catch (err) {
      // Two different clients may share a name; Zoho wants display names unique, so add the email.
      if (zohoCode(err) !== DUPLICATE_CONTACT_NAME) throw err;
      return toCustomer(await this.client.createContact(stripUndefined(body(`${input.name} (${input.email})`))));
    }
  }

  async findInvoiceByReference(reference: string, customerId: string): Promise<AccountingInvoice | undefined> {
    const { invoices } = await this.client.listInvoices({ reference_number: reference, customer_id: customerId });
    const match = invoices.find((i) => i.reference_number === reference && i.status !== 'void');
    // The list omits invoice_url: read the invoice itself (a recovery path only, so the call is rare).
    return match ? toInvoice(await this.client.getInvoice(String(match.invoice_id))) : undefined;
  }

  async createInvoice(draft: InvoiceDraft, opts: { send: boolean }): Promise<AccountingInvoice & { emailed: boolean }> {
    const body = stripUndefined({
      ...billingBody(draft),
      date: draft.date,
      invoice_number: draft.invoiceNumber,
      due_date: draft.dueDate,
    });
    const { invoice } = await this.client.createInvoice(body, { send: opts.send, ignoreAutoNumber: draft.invoiceNumber !== undefined }).catch((err: unknown) => {
      if (zohoCode(err) === DUPLICATE_INVOICE_NUMBER) {
        throw permanent('invoice_number_taken', `Invoice not created: the invoice number ${draft.invoiceNumber} is already used in Zoho Books. Remove or renumber that invoice, or change invoice.number.template, then move the deal into the invoicing stage again.`);
      }
      throw err;
    });
    // With send=true Zoho marks the invoice sent once the email went out; a draft means it did not.
    return { ...toInvoice(invoice), emailed: opts.send && invoice.status !== 'draft' };
  }

  async emailInvoice(invoiceId: string, to: string[]): Promise<void> {
    await this.client.emailInvoice(invoiceId, to);
  }

  async getInvoice(invoiceId: string): Promise<AccountingInvoiceDetail> {
    const i = await this.client.getInvoice(invoiceId);
    return {
      ...toInvoice(i),
      customerId: need(i.customer_id, 'customer_id'),
      reference: i.reference_number ?? '',
      total: Number(i.total ?? 0),
      balance: Number(i.balance ?? 0),
      currencyCode: i.currency_code ?? '',
      lastModified: i.last_modified_time ?? '',
      recurringInvoiceId: i.recurring_invoice_id ? String(i.recurring_invoice_id) : undefined,
      customFields: (i.custom_fields ?? []).filter((f) => f.api_name).map((f) => ({ apiName: f.api_name!, value: String(f.value ?? '') })),
    };
  }

  async reference(opts: { exemptions: boolean }): Promise<AccountingReference> {
    const currencies = await this.client.listCurrencies();
    const taxes = await this.client.listTaxes();
    const exemptions = opts.exemptions ? await this.client.listTaxExemptions() : [];
    const items = await this.client.listItems();
    const base = currencies.find((c) => c.is_base_currency);
    return {
      baseCurrency: base?.currency_code ?? currencies[0]?.currency_code ?? 'USD',
      currencies: currencies.map((c) => ({
        id: String(c.currency_id),
        code: c.currency_code,
        precision: c.price_precision ?? 2,
        exchangeRate: Number(c.exchange_rate ?? 1),
        isBase: c.is_base_currency === true,
      })),
      taxes: taxes.map((t) => ({ id: String(t.tax_id), name: t.tax_name, percentage: Number(t.tax_percentage) })),
      exemptions: exemptions.map((e) => ({ id: String(e.tax_exemption_id), name: e.tax_exemption_code ?? e.description ?? '' })),
      items: items.map((i) => ({ id: String(i.item_id), name: i.name, ...(i.sku ? { sku: i.sku } : {}), rate: Number(i.rate ?? 0) })),
    };
  }

  async createRecurring(draft: RecurringDraft): Promise<RecurringProfile> {
    const body = stripUndefined({
      ...billingBody(draft),
      recurrence_name: draft.name,
      recurrence_frequency: draft.frequency,
      repeat_every: draft.repeatEvery,
      start_date: draft.startDate,
      end_date: draft.endDate,
    });
    const r = await this.client.createRecurringInvoice(body);
    return { id: r.recurring_invoice_id, name: r.recurrence_name ?? draft.name };
  }

  async findRecurringByName(name: string): Promise<RecurringProfile | undefined> {
    const found = (await this.client.findRecurringInvoices(name)).find((r) => r.recurrence_name === name);
    return found ? { id: found.recurring_invoice_id, name } : undefined;
  }

  async setRecurringActive(id: string, active: boolean): Promise<void> {
    await this.client.setRecurringInvoiceStatus(id, active ? 'resume' : 'stop');
  }

  async invoicePayments(invoiceId: string): Promise<AccountingPayment[]> {
    const payments = await this.client.invoicePayments(invoiceId);
    return payments.map((p) => ({ paymentId: String(p.payment_id), amount: Number(p.amount), date: p.date }));
  }

  async invoicesModifiedSince(since: string, page: number) {
    const { invoices, hasMore } = await this.client.listInvoices({ last_modified_time: since, sort_column: 'last_modified_time', sort_order: 'A', page, per_page: 200 });
    return {
      invoices: invoices.map((i) => ({
        id: String(i.invoice_id),
        status: i.status,
        reference: i.reference_number ?? '',
        lastModified: i.last_modified_time ?? '',
        balance: Number(i.balance ?? 0),
        // The list does not carry recurring_invoice_id (contract): the payment job reads the invoice itself.
      })),
      hasMore,
    };
  }
}

/** What a one-off and a recurring invoice share: customer, currency, terms, discount, tax, lines. */
function billingBody(draft: Omit<InvoiceDraft, 'invoiceNumber' | 'dueDate' | 'date'>): Record<string, unknown> {
  const discounted = draft.discount !== undefined;
  return {
    customer_id: draft.customerId,
    reference_number: draft.reference,
    currency_id: draft.currencyId,
    exchange_rate: draft.exchangeRate,
    payment_terms: draft.paymentTerms,
    payment_terms_label: draft.paymentTermsLabel,
    discount: draft.discount,
    discount_type: discounted ? 'entity_level' : undefined,
    is_discount_before_tax: discounted ? true : undefined,
    tax_exemption_id: draft.taxExemptionId,
    line_items: draft.lines.map((l) => stripUndefined({ item_id: l.itemId, name: l.name, description: l.description, rate: l.rate, quantity: l.quantity, tax_id: l.taxId })),
    custom_fields: draft.customFields.length ? draft.customFields.map((f) => ({ api_name: f.apiName, value: f.value })) : undefined,
  };
}

/** A row of GET /contacts carries the primary contact person's email only (the list has no contact_persons). */
function contactEmails(c: ZohoListedContact): string[] {
  return c.email ? [c.email.trim().toLowerCase()] : [];
}

function toCustomer(c: ZohoContact | ZohoListedContact): Customer {
  return { id: String(c.contact_id), name: c.contact_name, currencyCode: c.currency_code };
}

function toInvoice(i: ZohoInvoice | ZohoCreatedInvoice): AccountingInvoice {
  return { id: String(i.invoice_id), number: need(i.invoice_number, 'invoice_number'), url: i.invoice_url ?? '', status: need(i.status, 'status') };
}

/** A property of an invoice answer the relay cannot do without (the contract marks all of them optional). */
function need(value: string | undefined, property: string): string {
  if (value === undefined || value === null || value === '') throw retryable('zoho_bad_response', `Zoho Books answered an invoice without ${property}.`, { service: 'zoho' });
  return String(value);
}

function zohoCode(err: unknown): number | undefined {
  if (!(err instanceof RelayError)) return undefined;
  const cause = err.cause as { code?: unknown } | undefined;
  return typeof cause?.code === 'number' ? cause.code : undefined;
}

function stripUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;
}

/** Zoho's billing address wants a country name; the relay works in ISO codes. */
function countryName(code: string): string {
  try {
    return new Intl.DisplayNames(['en'], { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}
