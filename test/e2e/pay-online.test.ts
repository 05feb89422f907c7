// invoice.payOnline (issue 18, "pay online") through the sandboxes, for every accounting backend (the registry's;
// E2E_ACCOUNTING= narrows). The organization has set up paying online (books.offerOnlinePayment: a Zoho Books
// gateway, a Xero branding theme with a payment service, Wave Payments' card and bank). With the mapping's
// `invoice.payOnline` the invoice the relay makes lets the client pay online; the client pays through the
// system's gateway (books.payOnline) and the payment reaches the deal exactly as any payment does (the system's
// webhook, or the reconciler's sweep where the system tells nothing: facts.payments): marked paid, moved to
// "Payment Received", noted; a part payment is noted and the deal stays. A mapping naming a way the organization
// lacks stops start-up with what it has. Without the option the invoice is made as the system makes one by
// default (facts.onlinePaymentDefault). 0 contract violations (checked on close).
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { startRelay } from '../../src/relay.js';
import { SANDBOX_FACTS, startScenario } from '../../sandbox/scenario.js';
import { ACCOUNTING_BACKENDS, namesOf } from '../support/accounting-backends.js';
import { addDeal, closeDealSuite, esc, field, invoices, move, notes, settled, startDealSuite, writeMapping, type DealSuite } from '../support/deal-suite.js';
import { polled, waitFor } from '../support/e2e.js';
import { tempDir } from '../support/tmp.js';

let e2e: DealSuite | undefined;
afterEach(async () => {
  const e = e2e;
  e2e = undefined;
  if (e) await closeDealSuite(e);
});

const lead = (e: DealSuite, dealId: number) => e.scenario.kommo.state.leads.get(dealId)!;

async function invoiced(e: DealSuite, price: number) {
  const dealId = addDeal(e, { price });
  move(e, dealId, e.scenario.stages.invoice);
  await waitFor(() => field(e, dealId, e.scenario.fields.invoiceUrl), 'the invoice on the deal');
  await settled(e);
  const [invoice, ...more] = invoices(e, dealId);
  expect(more).toEqual([]);
  return { dealId, invoice: invoice! };
}

describe.each(ACCOUNTING_BACKENDS)('pay online (%s)', (accounting) => {
  const names = namesOf(accounting);
  const facts = SANDBOX_FACTS[accounting];
  /** What the organization set up (books.offerOnlinePayment), as a mapping names it. */
  let offered: string[] = [];
  const withOffer = (payOnline: true | string[] | undefined) => ({
    ...(payOnline === undefined ? {} : { invoice: { payOnline } }),
    prepare: async (s: { books: { offerOnlinePayment(): Promise<string[]> } }) => void (offered = await s.books.offerOnlinePayment()),
  });

  it('payOnline true: the invoice lets the client pay online; paid in full through the gateway, the deal is marked paid, moved and noted, once', async () => {
    e2e = await startDealSuite(accounting, withOffer(true));
    const e = e2e;
    const s = e.scenario;
    expect(offered.length).toBeGreaterThan(0);
    const { dealId, invoice } = await invoiced(e, 4800);
    expect(s.books.onlinePayment(invoice.id)).not.toEqual([]);
    expect(invoice).toMatchObject({ status: 'open', total: 4800 });

    const paymentId = s.books.payOnline(invoice.id, 4800);
    expect(paymentId).toMatch(facts.id);
    await polled(e);
    await waitFor(() => lead(e, dealId).statusId === s.stages.paymentReceived, 'the stage move');
    await settled(e);
    expect(field(e, dealId, s.fields.paid)).toBe(true);
    expect(s.books.invoice(invoice.id)).toMatchObject({ status: 'paid', amountPaid: 4800 });
    expect(notes(e, dealId)).toEqual([
      expect.stringMatching(new RegExp(`^Payment received: 4,800\\.00 EUR on \\d{4}-\\d\\d-\\d\\d for invoice ${esc(invoice.number)}\\. \\(${esc(names.short)} payment ${esc(paymentId)}\\)$`)),
    ]);
    // Seen again (a sweep; the system's webhook sent again): no second note, no second move.
    await polled(e);
    if (facts.payments !== 'reconciler') expect((await s.books.replayLastWebhook()).status).toBe(200);
    await settled(e);
    expect(notes(e, dealId)).toHaveLength(1);
    expect(s.kommo.requests.filter((r) => r.method === 'PATCH' && (r.body as { status_id?: number }).status_id === s.stages.paymentReceived)).toHaveLength(1);
  });

  it('a part paid online: a partly-paid note, the deal stays where it is', async () => {
    e2e = await startDealSuite(accounting, withOffer(true));
    const e = e2e;
    const s = e.scenario;
    const { dealId, invoice } = await invoiced(e, 4800);
    const paymentId = s.books.payOnline(invoice.id, 1000);
    await polled(e);
    await waitFor(() => notes(e, dealId).length === 1, 'the partial-payment note');
    await settled(e);
    expect(notes(e, dealId)[0]).toMatch(
      new RegExp(`^Partial payment received: 1,000\\.00 EUR on \\d{4}-\\d\\d-\\d\\d for invoice ${esc(invoice.number)}; 3,800\\.00 EUR still due\\. \\(${esc(names.short)} payment ${esc(paymentId)}\\)$`),
    );
    expect(lead(e, dealId).statusId).toBe(s.stages.invoice);
    expect(field(e, dealId, s.fields.paid)).not.toBe(true);
    expect(s.books.invoice(invoice.id)).toMatchObject({ status: 'partially_paid', amountPaid: 1000 });
  });

  it('payOnline naming one way the organization has: the invoice offers exactly that one', async () => {
    // The first of what was set up (Wave: card alone, not bank), named as the organization names it.
    e2e = await startDealSuite(accounting, { prepare: async (s) => writeMapping(s, { invoice: { payOnline: [(await s.books.offerOnlinePayment())[0]!] } }) });
    const e = e2e;
    const { invoice } = await invoiced(e, 900);
    expect(e.scenario.books.onlinePayment(invoice.id)).toHaveLength(1);
  });

  it('a mapping naming a way the organization lacks: the relay refuses to start, naming invoice.payOnline and what there is', async () => {
    const dir = tempDir('relay-pay-online-');
    const s = await startScenario({ accounting, dir: dir.path });
    try {
      const has = await s.books.offerOnlinePayment();
      // (Zoho's set-up includes an invoice of its own: the relay makes none.)
      const before = s.books.invoices();
      writeMapping(s, { invoice: { payOnline: ['nonexistent'] } });
      const err = await Promise.resolve()
        .then(() => startRelay(parseEnv(s.env()), { log: createLogger({ level: 'silent' }) }))
        .then(
          async (relay) => (await relay.stop(), undefined),
          (x: unknown) => x,
        );
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems;
      expect(problems).toHaveLength(1);
      const [problem] = problems as [string];
      expect(problem).toContain('invoice.payOnline');
      expect(problem).toContain("'nonexistent'");
      expect(problem).toContain(names.system);
      // What the organization has, by the names a mapping may use.
      for (const name of has) expect(problem.toLowerCase()).toContain(`'${name.toLowerCase()}'`);
      expect(s.books.invoices()).toEqual(before);
      expect(s.books.violations).toEqual([]);
    } finally {
      await s.close();
      dir.cleanup();
    }
  });

  it('without payOnline: the invoice is made as the system makes one by default, the relay enabling nothing', async () => {
    e2e = await startDealSuite(accounting, withOffer(undefined));
    const e = e2e;
    const s = e.scenario;
    const { invoice } = await invoiced(e, 500);
    if ((facts.onlinePaymentDefault ?? 'none') === 'none') {
      expect(s.books.onlinePayment(invoice.id)).toEqual([]);
      // The gateway refuses a payment on it.
      expect(() => s.books.payOnline(invoice.id, 500)).toThrow();
      expect(s.books.invoice(invoice.id)).toMatchObject({ status: 'open', amountPaid: 0 });
    } else {
      // Wave: what the business set up, as every invoice made without a choice has it.
      expect([...s.books.onlinePayment(invoice.id)].sort()).toEqual([...offered].sort());
    }
  });
});
