// invoice.payOnline (issue 18): the mapping's `true` or names, resolved against what the organization offers
// (AccountingReference.payOnline) into the IDs invoices carry; what cannot be met is a start-up problem that
// says what the organization has and where to set it up. A backend that cannot is refused when the mapping is read.
import { describe, expect, it } from 'vitest';
import type { AccountingBackend } from '../../src/accounting/backend.js';
import { zohoBackend } from '../../src/accounting/zoho/index.js';
import { ConfigError } from '../../src/config/config-error.js';
import { parseMapping } from '../../src/config/mapping.js';
import { resolvePayOnline } from '../../src/sync/pay-online.js';
import type { PayOnlineOffer } from '../../src/sync/ports.js';

const gateways: PayOnlineOffer = {
  available: [
    { id: 'stripe', name: 'Stripe' },
    { id: 'paypal', name: 'PayPal', detail: 'configured' },
    { id: 'braintree', name: 'Braintree' },
  ],
  byDefault: ['stripe', 'paypal'],
  setUp: 'Books › Settings › Online Payments',
};

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('no ConfigError');
};

describe('resolvePayOnline', () => {
  it('nothing asked: nothing on the invoices, whatever the organization has', () => {
    expect(resolvePayOnline(undefined, { payOnline: gateways }, 'Books')).toBeUndefined();
    expect(resolvePayOnline(undefined, {}, 'Books')).toBeUndefined();
  });

  it('true: what the organization has set up (byDefault)', () => {
    expect(resolvePayOnline(true, { payOnline: gateways }, 'Books')).toEqual(['stripe', 'paypal']);
  });

  it('names match case-insensitively, by name or else by ID, in the mapping order, once each', () => {
    expect(resolvePayOnline([' paypal ', 'STRIPE'], { payOnline: gateways }, 'Books')).toEqual(['paypal', 'stripe']);
    const byId: PayOnlineOffer = { ...gateways, available: [{ id: 'theme-1', name: 'Standard' }], byDefault: [] };
    expect(resolvePayOnline(['theme-1', 'standard'], { payOnline: byId }, 'Books')).toEqual(['theme-1']);
  });

  it('an unknown name: every one said, with what the organization has and where to set it up', () => {
    expect(problemsOf(() => resolvePayOnline(['Stripe', 'Klarna', 'Square'], { payOnline: gateways }, 'Books'))).toEqual([
      "MAPPING_FILE invoice.payOnline: no way of paying online named 'Klarna' in Books (it has: 'Stripe', 'PayPal' (configured), 'Braintree'). Use one of those names, or set it up in Books › Settings › Online Payments.",
      "MAPPING_FILE invoice.payOnline: no way of paying online named 'Square' in Books (it has: 'Stripe', 'PayPal' (configured), 'Braintree'). Use one of those names, or set it up in Books › Settings › Online Payments.",
    ]);
  });

  it('true with nothing set up stops start-up with where to set it up', () => {
    const none: PayOnlineOffer = { available: [], byDefault: [], setUp: 'Books › Settings › Online Payments' };
    expect(problemsOf(() => resolvePayOnline(true, { payOnline: none }, 'Books'))).toEqual([
      'MAPPING_FILE invoice.payOnline: true enables every way of paying online set up in Books, and none is (it has none). Set one up in Books › Settings › Online Payments, or name one in invoice.payOnline.',
    ]);
    expect(problemsOf(() => resolvePayOnline(['stripe'], { payOnline: none }, 'Books'))[0]).toContain("no way of paying online named 'stripe' in Books (it has none)");
  });

  it('true where the system could not tell what is set up: says why, and what may be named', () => {
    const unknown: PayOnlineOffer = { available: [{ id: 'stripe', name: 'stripe' }], byDefault: [], setUp: 'Books › Settings › Online Payments', unconfirmed: 'the API lists no gateways' };
    expect(problemsOf(() => resolvePayOnline(true, { payOnline: unknown }, 'Books'))).toEqual([
      "MAPPING_FILE invoice.payOnline: true enables every way of paying online set up in Books, and none is known to be (the API lists no gateways). Set one up in Books › Settings › Online Payments, or name the ones to enable in invoice.payOnline (it has: 'stripe').",
    ]);
    expect(resolvePayOnline(['Stripe'], { payOnline: unknown }, 'Books')).toEqual(['stripe']);
  });

  it('more than the system takes per invoice: the limit is said', () => {
    const one: PayOnlineOffer = { ...gateways, most: 1 };
    expect(problemsOf(() => resolvePayOnline(['stripe', 'paypal'], { payOnline: one }, 'Books'))[0]).toMatch(
      /^MAPPING_FILE invoice\.payOnline: Books takes at most 1 way of paying online per invoice, and 2 are asked for \('Stripe', 'PayPal'\)\. Name one in invoice\.payOnline/,
    );
    expect(problemsOf(() => resolvePayOnline(true, { payOnline: one }, 'Books'))[0]).toContain('at most 1 way');
    expect(resolvePayOnline(['stripe', 'Stripe'], { payOnline: one }, 'Books')).toEqual(['stripe']);
  });

  it('two ways of the same name: ambiguous, named by ID instead', () => {
    const twice: PayOnlineOffer = { ...gateways, available: [{ id: 'a', name: 'Card' }, { id: 'b', name: 'card' }] };
    expect(problemsOf(() => resolvePayOnline(['Card'], { payOnline: twice }, 'Books'))[0]).toContain("several ways of paying online are named 'Card' in Books; rename one of them there, or name it by its ID (a, b)");
    expect(resolvePayOnline(['b'], { payOnline: twice }, 'Books')).toEqual(['b']);
  });

  it('a reference without the offer: the backend cannot', () => {
    expect(problemsOf(() => resolvePayOnline(['stripe'], {}, 'Books'))).toEqual([
      'MAPPING_FILE invoice.payOnline: the relay cannot tell which ways of paying online Books has, so it cannot make invoices payable online there. Remove invoice.payOnline.',
    ]);
  });
});

describe('invoice.payOnline against the backend', () => {
  const mapping = (payOnline: unknown) => ({ invoice: { stages: ['Invoice'], payOnline }, dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 'Invoice URL' } });
  const lesser = { ...zohoBackend, names: { ...zohoBackend.names, system: 'Lesser Books' }, capabilities: { ...zohoBackend.capabilities, payOnline: undefined } } as AccountingBackend;

  it('a backend without the capability refuses it when the mapping is read', () => {
    expect(() => parseMapping(mapping(true), 'mapping.json', lesser)).toThrow(ConfigError);
    expect(problemsOf(() => parseMapping(mapping(['stripe']), 'mapping.json', lesser))).toEqual([
      'MAPPING_FILE mapping.json: invoice.payOnline: the relay cannot make Lesser Books invoices payable online or read how the Books organization takes online payments. Remove invoice.payOnline (ACCOUNTING=zoho).',
    ]);
    expect(parseMapping(mapping(undefined), 'mapping.json', lesser).invoice.payOnline).toBeUndefined();
  });

  it('Zoho Books takes it', () => {
    expect(parseMapping(mapping(['stripe']), 'mapping.json', zohoBackend as AccountingBackend).invoice.payOnline).toEqual(['stripe']);
    expect(problemsOf(() => parseMapping(mapping([]), 'mapping.json', zohoBackend as AccountingBackend))[0]).toMatch(/^MAPPING_FILE mapping\.json: invoice\.payOnline: /);
  });
});
