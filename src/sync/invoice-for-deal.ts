// Use case "invoice for deal": read fresh state, decide, write — every step safe to run again. The
// deal_invoices row is the intent record: it is written before each remote write, so after a crash or an
// uncertain answer the next attempt looks in Zoho before it creates anything.
import type { ResolvedMapping } from '../config/resolve-mapping.js';
import { permanent, retryable, RelayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CustomerLinks, DealInvoice, DealInvoices } from '../store/invoice-records.js';
import { billingContact, buildInvoiceDraft, customerFromPerson, decideBilling, isEmail, normaliseEmail, referenceFor, type Billing, type DraftSettings } from './invoice-draft.js';
import type { AccountingPort, CrmPort, Customer, Deal, Person } from './ports.js';

export interface InvoiceForDealDeps {
  crm: CrmPort;
  accounting: AccountingPort;
  invoices: DealInvoices;
  customers: CustomerLinks;
  mapping: ResolvedMapping;
  /** Currencies, taxes and items of the accounting side, with the mapping's tax rules resolved. */
  settings: { get(): Promise<DraftSettings> };
  /** How long another job's claim on creating a customer is honoured before it is taken over. */
  customerClaimStaleMs: number;
}

export type InvoiceOutcome =
  | { outcome: 'invoiced'; invoiceId: string; invoiceNumber: string; customerId: string; remarks: string[] }
  | { outcome: 'already_invoiced'; invoiceId: string | null }
  | { outcome: 'skipped'; reason: string };

export class InvoiceForDeal {
  constructor(private readonly deps: InvoiceForDealDeps) {}

  async run(dealId: number, ctx: { jobId: number; log: Logger }): Promise<InvoiceOutcome> {
    const { crm, invoices, mapping } = this.deps;
    const key = String(dealId);
    let record = await invoices.get(key);
    if (record?.state === 'linked') {
      // Re-entering the stage (or our own write-back firing a webhook) never invoices twice.
      return { outcome: 'already_invoiced', invoiceId: record.invoice_id };
    }

    const deal = await crm.getDeal(dealId);
    if (!deal) {
      throw permanent('deal_not_found', `Invoice not created: deal ${dealId} no longer exists in Kommo (deleted or merged).`);
    }
    if (!record) {
      const stage = mapping.invoiceStages.find((s) => s.statusId === deal.statusId && s.pipelineId === deal.pipelineId);
      if (!stage) {
        // The webhook is only a hint: by now the deal is elsewhere, and nobody asked for an invoice.
        return { outcome: 'skipped', reason: `deal is no longer in an invoicing stage (now status ${deal.statusId} in pipeline ${deal.pipelineId})` };
      }
      record = await invoices.start(key, referenceFor(mapping.zoho.referenceTemplate, dealId, 1));
    }

    const person = await this.billingPerson(deal);
    const email = this.billingEmail(person);
    const settings = await this.deps.settings.get();
    const billing = decideBilling(deal, person, mapping, settings);
    let customerId = record.customer_id;
    if (!customerId) {
      const customer = await this.ensureCustomer(person, email, dealId, billing, ctx);
      if (customer.currencyCode && customer.currencyCode !== billing.currency.code) {
        throw permanent(
          'customer_currency_mismatch',
          `Invoice not created: the deal is in ${billing.currency.code}, but the Zoho Books customer "${customer.name}" (${email}) is kept in ${customer.currencyCode}, and Zoho Books cannot change a customer's currency. Invoice this deal in ${customer.currencyCode}, or create a separate customer for ${billing.currency.code} in Zoho Books, then move the deal into the invoicing stage again.`,
        );
      }
      customerId = customer.id;
      record = await invoices.update(key, { customer_id: customerId });
    }

    const remarks: string[] = [];
    record = await this.ensureInvoice(deal, record, customerId, billing, settings, remarks, ctx);
    record = await this.ensureEmailed(record, email, ctx);

    const fields = [
      { fieldId: mapping.dealFields.invoiceId.id, value: record.invoice_id! },
      { fieldId: mapping.dealFields.invoiceUrl.id, value: record.invoice_url! },
    ];
    if (mapping.dealFields.invoiceNumber) fields.push({ fieldId: mapping.dealFields.invoiceNumber.id, value: record.invoice_number! });
    await crm.writeDealFields(dealId, fields);
    record = await invoices.update(key, { state: 'linked' });
    ctx.log.info({ invoice_id: record.invoice_id, invoice_number: record.invoice_number }, 'deal invoiced and linked');
    return { outcome: 'invoiced', invoiceId: record.invoice_id!, invoiceNumber: record.invoice_number!, customerId, remarks };
  }

  private async billingPerson(deal: Deal): Promise<Person> {
    const contactId = billingContact(deal);
    if (contactId === undefined) {
      throw permanent('deal_has_no_contact', 'Invoice not created: the deal has no contact. Add the client as a contact with an email, then move the deal into the invoicing stage again.');
    }
    const person = await this.deps.crm.getPerson(contactId);
    if (!person) throw permanent('contact_not_found', `Invoice not created: the deal's contact ${contactId} no longer exists in Kommo. Link an existing contact, then move the deal into the invoicing stage again.`);
    return person;
  }

  private billingEmail(person: Person): string {
    const raw = person.emails[0];
    if (!raw) {
      throw permanent('contact_missing_email', `Invoice not created: the contact "${person.name}" has no email. Add an email to the contact, then move the deal into the invoicing stage again.`);
    }
    const email = normaliseEmail(raw);
    if (!isEmail(email)) {
      throw permanent('contact_invalid_email', `Invoice not created: the contact "${person.name}" has an invalid email ("${raw.trim()}"). Correct it, then move the deal into the invoicing stage again.`);
    }
    return email;
  }

  /** Finds the customer by email or creates it, never twice: one job at a time may do so per email. */
  private async ensureCustomer(person: Person, email: string, dealId: number, billing: Billing, ctx: { log: Logger }): Promise<Customer> {
    const { customers, accounting } = this.deps;
    const contactKey = String(person.id);
    const link = await customers.forContact(contactKey);
    if (link && link.emailKey === email) return { id: link.customerId, name: person.name };

    // The claim belongs to the deal, not the job: any later job of this deal (jobs of one deal never run
    // together) may finish what an interrupted one started.
    const owner = `deal:${dealId}`;
    const claim = await customers.claim(email, owner, this.deps.customerClaimStaleMs);
    if (claim.kind === 'known') {
      await customers.linkContact(contactKey, claim.customerId, email);
      return { id: claim.customerId, name: person.name };
    }
    if (claim.kind === 'busy') {
      throw retryable('customer_being_created', `Another deal is creating the Zoho customer for ${email} right now; will try again in a moment.`, { retryAfterMs: 1000 });
    }
    let found, customer;
    try {
      found = await accounting.findCustomerByEmail(email);
      customer = found ?? (await accounting.createCustomer(customerFromPerson(person, email, billing)));
    } catch (err) {
      // Nothing was created for certain: let another deal of the same client go ahead at once.
      if (!(err instanceof RelayError && err.uncertain)) await customers.release(email, owner);
      throw err;
    }
    await customers.save(email, customer.id, contactKey);
    ctx.log.info({ customer_id: customer.id, created: !found }, found ? 'customer found in Zoho by email' : 'customer created in Zoho');
    return customer;
  }

  private async ensureInvoice(
    deal: Deal,
    record: DealInvoice,
    customerId: string,
    billing: Billing,
    settings: DraftSettings,
    remarks: string[],
    ctx: { log: Logger },
  ): Promise<DealInvoice> {
    const { accounting, invoices, mapping } = this.deps;
    const key = record.deal_id;
    if (record.invoice_id) return record;
    if (record.state === 'creating') {
      // A previous attempt may have reached Zoho before it died or timed out: look before creating.
      const existing = await accounting.findInvoiceByReference(record.reference, customerId);
      if (existing) {
        ctx.log.warn({ invoice_id: existing.id }, 'adopted the invoice an earlier attempt created');
        return invoices.update(key, {
          state: 'created',
          invoice_id: existing.id,
          invoice_number: existing.number,
          invoice_url: existing.url,
          invoice_status: existing.status,
          emailed: existing.status === 'draft' ? 0 : EMAILED,
        });
      }
    }
    const products = mapping.lines.sources.includes('products') && deal.products.length ? await this.deps.crm.dealProducts(deal) : [];
    const built = buildInvoiceDraft({ deal, products, customerId, reference: record.reference, generation: record.generation, billing }, mapping, settings);
    remarks.push(...built.remarks);
    if (built.remarks.length) ctx.log.info({ remarks: built.remarks, lines_from: built.source }, 'invoice lines differ from the deal amount');
    const draft = built.draft;
    await invoices.update(key, { state: 'creating' });
    let created;
    try {
      created = await accounting.createInvoice(draft, { send: mapping.sendInvoice });
    } catch (err) {
      // Only an answer that may have been acted on keeps the 'creating' mark (and costs a lookup later).
      if (!(err instanceof RelayError && err.uncertain)) await invoices.update(key, { state: 'pending' });
      throw err;
    }
    return invoices.update(key, {
      state: 'created',
      invoice_id: created.id,
      invoice_number: created.number,
      invoice_url: created.url,
      invoice_status: created.status,
      emailed: created.emailed ? EMAILED : 0,
    });
  }

  private async ensureEmailed(record: DealInvoice, email: string, ctx: { log: Logger }): Promise<DealInvoice> {
    const { accounting, invoices, mapping } = this.deps;
    if (!mapping.sendInvoice || record.emailed === EMAILED) return record;
    if (record.emailed === EMAIL_ATTEMPTED) {
      // An earlier send may have gone out before its answer was lost: Zoho marks a sent invoice.
      const current = await accounting.getInvoice(record.invoice_id!);
      if (current.status !== 'draft') return invoices.update(record.deal_id, { emailed: EMAILED, invoice_status: current.status });
    }
    await invoices.update(record.deal_id, { emailed: EMAIL_ATTEMPTED });
    await accounting.emailInvoice(record.invoice_id!, [email]);
    ctx.log.info({ invoice_id: record.invoice_id }, 'invoice emailed');
    return invoices.update(record.deal_id, { emailed: EMAILED, invoice_status: 'sent' });
  }
}

/** deal_invoices.emailed: 0 not sent, 1 sent, 2 a send was attempted and its outcome is unknown. */
const EMAILED = 1;
const EMAIL_ATTEMPTED = 2;
