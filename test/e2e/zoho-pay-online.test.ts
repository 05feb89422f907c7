// invoice.payOnline on Zoho Books through the relay started in-process, both sandboxes over HTTP: start-up
// refuses a gateway the organization does not have, with the names it takes and where to set one up; a deal
// invoiced with a gateway named gets an invoice the client can pay online, and that payment reaches the deal
// as any payment does (Zoho's workflow webhook).
import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { check } from '../../src/cli/check.js';
import { CliContext } from '../../src/cli/context.js';
import { ConfigError, parseEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { startRelay } from '../../src/relay.js';
import { dealField, dealInvoices, startE2E, waitFor, type E2E } from '../support/e2e.js';

let e2e: E2E | undefined;
afterEach(async () => {
  if (e2e) {
    expect(e2e.scenario.books.violations).toEqual([]);
    await e2e.close();
  }
  e2e = undefined;
});

/** `relay check`, in-process (the same code the CLI runs): its exit code and what it printed. */
async function relayCheck(env: Record<string, string>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const ctx = new CliContext({ out: (t) => void lines.push(t), err: () => undefined }, env, false);
  try {
    const code = await check(ctx, { positionals: [], flags: new Set(), options: new Map() });
    return { code, out: lines.join('\n') };
  } finally {
    await ctx.close();
  }
}

const withPayOnline = (e: E2E, payOnline: unknown) => {
  const mapping = JSON.parse(readFileSync(e.scenario.mappingFile, 'utf8')) as { invoice: Record<string, unknown> };
  mapping.invoice.payOnline = payOnline;
  return mapping;
};

describe('Zoho Books: invoice.payOnline through the relay', () => {
  it('start-up refuses a gateway the organization does not have, naming what it takes and where to set it up', async () => {
    e2e = await startE2E({ accounting: 'zoho' });
    const s = e2e.scenario;
    const file = `${e2e.dir}/pay-online.json`;
    writeFileSync(file, JSON.stringify(withPayOnline(e2e, ['Stripe', 'Klarna'])));
    const err = await startRelay(parseEnv(s.env({ MAPPING_FILE: file, DATABASE_URL: `sqlite:${e2e.dir}/bad.db` })), { log: createLogger({ level: 'silent' }) }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ConfigError);
    // A new organization has no invoice that shows its gateways: the names Zoho documents are what it takes.
    expect((err as ConfigError).problems).toEqual([
      "MAPPING_FILE invoice.payOnline: no way of paying online named 'Klarna' in Zoho Books (it has: 'paypal', 'authorize_net', 'payflow_pro', 'stripe', '2checkout', 'braintree'). Use one of those names, or set it up in Zoho Books › Settings › Online Payments. " +
        "Note: Zoho Books' API does not list the organization's payment gateways, and it has no invoice yet: the names are checked against the gateways Zoho documents (paypal, authorize_net, payflow_pro, stripe, 2checkout, braintree); the first invoice's answer shows whether they are configured (the relay logs a warning for one that is not).",
    ]);
    // relay check says the same, and what Zoho's API could not tell.
    const checked = await relayCheck(s.env({ MAPPING_FILE: file, DATABASE_URL: `sqlite:${e2e.dir}/bad.db` }));
    expect(checked.code).toBe(1);
    expect(checked.out).toContain("FAIL  Mapping against Zoho Books: note: invoice.payOnline: Zoho Books' API does not list the organization's payment gateways");
    expect(checked.out).toContain("- MAPPING_FILE invoice.payOnline: no way of paying online named 'Klarna' in Zoho Books");
    // `true` with nothing known to be set up stops start-up too.
    writeFileSync(file, JSON.stringify(withPayOnline(e2e, true)));
    const all = await startRelay(parseEnv(s.env({ MAPPING_FILE: file, DATABASE_URL: `sqlite:${e2e.dir}/bad2.db` })), { log: createLogger({ level: 'silent' }) }).catch((x: unknown) => x);
    expect((all as ConfigError).problems?.[0]).toMatch(/^MAPPING_FILE invoice\.payOnline: true enables every way of paying online set up in Zoho Books, and none is known to be/);
  });

  it('a deal invoiced with a gateway named: the client pays the invoice online and the deal is marked paid', async () => {
    e2e = await startE2E({ accounting: 'zoho' });
    const s = e2e.scenario;
    writeFileSync(s.mappingFile, JSON.stringify(withPayOnline(e2e, ['stripe'])));
    await e2e.restart();
    const { dealId } = s.addClientDeal({ price: 4800 });
    s.moveToInvoice(dealId);
    await waitFor(() => dealField(s, dealId, s.fields.invoiceUrl), 'the invoice');
    const invoice = dealInvoices(s, dealId)[0]!;
    expect(s.zoho.onlinePayment(invoice.id)).toEqual(['stripe']);
    s.zoho.payOnline(invoice.id, 4800);
    await waitFor(() => s.kommo.state.leads.get(dealId)!.statusId === s.stages.paymentReceived, 'the deal to move to Payment Received');
    expect(dealField(s, dealId, s.fields.paid)).toBe(true);
    // Now an invoice shows the organization's gateways: relay check says what is enabled, with nothing unconfirmed.
    const checked = await relayCheck(s.env());
    expect(checked.out).toContain("ok    Mapping against Zoho Books: every tax and currency exists; invoices payable online with 'stripe'\n");
  });
});
