// Zoho Books as the relay's accounting port.
import { RelayError } from '../errors.js';
import type { AccountingInvoice, AccountingInvoiceDetail, AccountingPayment, AccountingPort, Customer, CustomerInput, InvoiceDraft } from '../sync/ports.js';
import type { ZohoBooksClient } from './client.js';
import type { ZohoContact, ZohoInvoice } from './types.js';

/** Zoho Books: "The contact name already exists" (display names are unique per organization). */
const DUPLICATE_CONTACT_NAME = 3062;

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
      billing_address: input.country ? { country: input.country } : undefined,
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
      customer_id: draft.customerId,
      reference_number: draft.reference,
      currency_id: draft.currencyId,
      date: draft.date,
      line_items: draft.lines.map((l) =>
        stripUndefined({ item_id: l.itemId, name: l.name, description: l.description, rate: l.rate, quantity: l.quantity, tax_id: l.taxId }),
      ),
      custom_fields: draft.customFields.length ? draft.customFields.map((f) => ({ api_name: f.apiName, value: f.value })) : undefined,
    });
    const { invoice } = await this.client.createInvoice(body, { send: opts.send });
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
      customerId: String(i.customer_id),
      reference: i.reference_number ?? '',
      total: Number(i.total ?? 0),
      balance: Number(i.balance ?? 0),
      currencyCode: i.currency_code ?? '',
      lastModified: i.last_modified_time ?? '',
      recurringInvoiceId: i.recurring_invoice_id ? String(i.recurring_invoice_id) : undefined,
      customFields: (i.custom_fields ?? []).filter((f) => f.api_name).map((f) => ({ apiName: f.api_name!, value: String(f.value ?? '') })),
    };
  }

  async invoicePayments(invoiceId: string): Promise<AccountingPayment[]> {
    const payments = await this.client.invoicePayments(invoiceId);
    return payments.map((p) => ({ paymentId: String(p.payment_id), amount: Number(p.amount), date: p.date }));
  }

  async invoicesModifiedSince(since: string, page: number) {
    const { invoices, hasMore } = await this.client.listInvoices({ last_modified_time: since, sort_column: 'last_modified_time', sort_order: 'A', page, per_page: 200 });
    return {
      invoices: invoices.map((i) => ({ id: String(i.invoice_id), status: i.status, reference: i.reference_number ?? '', lastModified: i.last_modified_time ?? '', balance: Number(i.balance ?? 0) })),
      hasMore,
    };
  }
}

function contactEmails(c: ZohoContact): string[] {
  return [c.email, ...(c.contact_persons ?? []).map((p) => p.email)].filter((e): e is string => !!e).map((e) => e.trim().toLowerCase());
}

function toCustomer(c: ZohoContact): Customer {
  return { id: String(c.contact_id), name: c.contact_name, currencyCode: c.currency_code };
}

function toInvoice(i: ZohoInvoice): AccountingInvoice {
  return { id: String(i.invoice_id), number: i.invoice_number, url: i.invoice_url ?? '', status: i.status };
}

function zohoCode(err: unknown): number | undefined {
  if (!(err instanceof RelayError)) return undefined;
  const cause = err.cause as { code?: unknown } | undefined;
  return typeof cause?.code === 'number' ? cause.code : undefined;
}

function stripUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;
}
