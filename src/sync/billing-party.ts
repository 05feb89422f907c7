// Who is billed for a deal, shared by one-off and recurring invoices: the deal's main contact and its
// email, how they are billed (currency, country, tax), and their customer in the accounting system —
// found by email or created, never twice, and never in a currency that does not match the deal.
import type { ResolvedMapping } from '../config/resolve-mapping.js';
import { permanent, retryable, RelayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CustomerLinks } from '../store/invoice-records.js';
import { billingContact, customerFromPerson, decideBilling, isEmail, normaliseEmail, type Billing, type DraftSettings } from './invoice-draft.js';
import type { AccountingPort, CrmPort, Customer, Deal, Person } from './ports.js';

export interface BillingPartyDeps {
  crm: CrmPort;
  accounting: AccountingPort;
  customers: CustomerLinks;
  mapping: ResolvedMapping;
  settings: { get(): Promise<DraftSettings> };
  /** How long another job's claim on creating a customer is honoured before it is taken over. */
  customerClaimStaleMs: number;
}

export interface Party {
  person: Person;
  email: string;
  billing: Billing;
  settings: DraftSettings;
}

export class BillingParty {
  constructor(private readonly deps: BillingPartyDeps) {}

  /** The contact, email and billing decisions for a deal (no writes). */
  async of(deal: Deal): Promise<Party> {
    const person = await this.billingPerson(deal);
    const email = this.billingEmail(person);
    const settings = await this.deps.settings.get();
    return { person, email, billing: decideBilling(deal, person, this.deps.mapping, settings), settings };
  }

  /** The party's customer, found or created once; a customer in another currency is a permanent error. */
  async customer(party: Party, dealId: number, ctx: { log: Logger }): Promise<Customer> {
    const customer = await this.ensureCustomer(party.person, party.email, dealId, party.billing, ctx);
    const wanted = party.billing.currency.code;
    const system = this.deps.accounting.names.system;
    if (customer.currencyCode && customer.currencyCode !== wanted) {
      throw permanent(
        'customer_currency_mismatch',
        `Invoice not created: the deal is in ${wanted}, but the ${system} customer "${customer.name}" (${party.email}) is kept in ${customer.currencyCode}, and ${system} cannot change a customer's currency. Invoice this deal in ${customer.currencyCode}, or create a separate customer for ${wanted} in ${system}, then move the deal into the invoicing stage again.`,
      );
    }
    return customer;
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
    if (link && link.emailKey === email) return { id: link.customerId, name: person.name, ...(link.currencyCode ? { currencyCode: link.currencyCode } : {}) };

    // The claim belongs to the deal, not the job: any later job of this deal (jobs of one deal never run
    // together) may finish what an interrupted one started.
    const owner = `deal:${dealId}`;
    const claim = await customers.claim(email, owner, this.deps.customerClaimStaleMs);
    if (claim.kind === 'known') {
      await customers.linkContact(contactKey, claim.customerId, email);
      return { id: claim.customerId, name: person.name, ...(claim.currencyCode ? { currencyCode: claim.currencyCode } : {}) };
    }
    if (claim.kind === 'busy') {
      throw retryable('customer_being_created', `Another deal is creating the ${accounting.names.short} customer for ${email} right now; will try again in a moment.`, { retryAfterMs: 1000 });
    }
    let found, customer;
    try {
      found = await accounting.findCustomerByEmail(email);
      customer = found ?? (await accounting.createCustomer(customerFromPerson(person, email, billing), { idempotencyKey: `customer:contact:${contactKey}` }));
    } catch (err) {
      // Nothing was created for certain: let another deal of the same client go ahead at once.
      if (!(err instanceof RelayError && err.uncertain)) await customers.release(email, owner);
      throw err;
    }
    // A created customer is in the deal's currency, unless the system keeps none for its customers.
    await customers.save(email, customer.id, contactKey, customer.anyCurrency ? undefined : (customer.currencyCode ?? (found ? undefined : billing.currency.code)));
    ctx.log.info({ customer_id: customer.id, created: !found }, found ? `customer found in ${accounting.names.short} by email` : `customer created in ${accounting.names.short}`);
    return customer;
  }

}
