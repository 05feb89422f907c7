// The operator's CLI against the sandbox, as a child process on the relay's own database, for each
// accounting backend: discover prints what exists and a mapping that check accepts; check lists every
// problem of a broken mapping and exits 1; webhooks registers Kommo's (or prints the manual steps) and the
// accounting system's set-up; deal, retry and status read and act on what the running relay did.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountingBackend } from '../../src/accounting/registry.js';
import { parseEnv } from '../../src/config/env.js';
import { WEBHOOK_SECRET } from '../../sandbox/scenario.js';
import { ACCOUNTING_BACKENDS, namesOf } from '../support/accounting-backends.js';
import { runCli } from '../support/cli.js';
import { dealInvoices, startE2E, waitFor, type E2E } from '../support/e2e.js';

/** How each system is told to make a missing currency usable (Wave keeps no list of them: the mapping's rates). */
const addCurrency: Record<string, string> = {
  zoho: 'Add it in Zoho Books (Settings › Currencies)',
  xero: 'Add it in Xero (Settings › Currencies)',
  wave: 'Give it a rate to the business\'s currency in the mapping file\'s wave.exchangeRates (e.g. "CHF": 1.05)',
};
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.each(ACCOUNTING_BACKENDS)('%s', (accounting) => {
  let e2e: E2E;
  let env: Record<string, string>;
  const names = namesOf(accounting);
  const system = names.system;
  let vat19 = '';

  beforeAll(async () => {
    e2e = await startE2E({
      accounting,
      prepare: (s) => {
        vat19 = s.books.addTax({ name: 'VAT 19%', percentage: 19, isDefault: true });
        s.books.addTax({ name: 'VAT 7%', percentage: 7 });
        s.books.addCurrency('USD', 0.92);
        s.kommo.addContactField({ name: 'Country', type: 'text' });
      },
    });
    env = e2e.scenario.env();
  });
  afterAll(async () => {
    expect(e2e.scenario.books.violations).toEqual([]);
    await e2e.close();
  });

  const mappingFile = (name: string, content: unknown) => {
    const file = join(e2e.dir, name);
    writeFileSync(file, JSON.stringify(content, null, 2));
    return file;
  };
  const dealField = (dealId: number, fieldId: number) => e2e.scenario.kommo.state.leads.get(dealId)?.customFields.find((f) => f.fieldId === fieldId)?.values[0]?.value;
  /** How the backend words the books it works in, in `relay check` (Zoho: organization; Xero: organisation). */
  const organization = names.organization.split(' ').at(-1)!.toLowerCase();
  const taxList = () => e2e.scenario.books.taxes().map((t) => `'${t.name}' (${t.percentage} %)`).join(', ');

  describe('relay discover', () => {
    it('lists stages, fields, organizations, taxes and currencies with IDs, and writes a starter mapping that check accepts', async () => {
      const s = e2e.scenario;
      const out = join(e2e.dir, 'starter.json');
      const run = await runCli(['discover', '--out', out], env);
      expect([run.code, run.stderr]).toEqual([0, '']);
      const lines = run.stdout.split('\n');
      expect(lines[0]).toBe('Kommo account "acme" (id 30011223, subdomain acme, country DE, currency EUR)');
      expect(lines).toContain(`  Sales (id ${s.pipelineId})`);
      expect(lines).toContain(`    Invoice           id ${s.stages.invoice}`);
      expect(lines).toContain(`    Payment Received  id ${s.stages.paymentReceived}`);
      expect(lines).toContain(`  Invoice ID            text      id ${s.fields.invoiceId}`);
      // The organization the relay works in, the tax rates with their IDs, the currencies: as the backend words them.
      expect(lines.filter((l) => new RegExp(`^  Acme  .*${escape(s.books.organizationId)}.*  <- the relay works in this one$`).test(l))).toHaveLength(1);
      // The ID as a whole word between spaces (Wave's are base64 and may end in "=").
      expect(lines.filter((l) => new RegExp(`^  VAT 19% +19 % +(.* )?${escape(vat19)}( |$)`).test(l))).toHaveLength(1);
      expect(lines.filter((l) => /^ {2}(EUR|USD) {2}/.test(l))).toHaveLength(2);
      expect(lines).toContain(`Starter mapping written to ${out}:`);

      const json = JSON.parse((await runCli(['discover', '--json'], env)).stdout);
      // The system's default tax where it has one (Zoho). Xero has none, and the organisation's Sales account
      // carries "Tax Exempt" (0 %): no guess, a placeholder the operator fills from the rates listed in the to-do.
      const standard = s.books.taxes().find((t) => t.isDefault);
      const placeholder = 'CHOOSE the tax for clients in DE';
      expect(json.mapping).toEqual({
        invoice: { stages: [{ pipeline: 'Sales', stage: 'Invoice' }] },
        dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 'Invoice URL' },
        payment: { stage: 'Payment Received', paidField: 'Paid' },
        tax: { countryFrom: [{ entity: 'contact', field: 'Country' }], defaultCountry: 'DE', rules: { DE: { tax: standard ? standard.name : placeholder }, '*': 'none' } },
      });
      if (!standard) {
        const todo = (json.todo as string[]).find((t) => t.startsWith('tax.rules.DE:'))!;
        for (const t of s.books.taxes()) expect(todo).toContain(`"${t.name}" (${t.percentage} %)`);
        // check refuses the placeholder, naming what exists; filled in, the starter mapping passes.
        const unfilled = await runCli(['check'], { ...env, MAPPING_FILE: out });
        expect(unfilled.code).toBe(1);
        expect(unfilled.stdout + unfilled.stderr).toContain(placeholder);
        const starter = JSON.parse(readFileSync(out, 'utf8'));
        starter.tax.rules.DE = { tax: 'VAT 19%' };
        writeFileSync(out, JSON.stringify(starter, null, 2));
      }
      expect(json.kommo.pipelines[0]._embedded.statuses.map((x: { id: number }) => x.id)).toContain(s.stages.invoice);
      expect(JSON.stringify(json[accounting])).toContain(s.books.organizationId);

      const refused = await runCli(['discover', '--out', out], env);
      expect([refused.code, refused.stderr]).toEqual([1, `${out} exists already: pass --force to replace it, or choose another file.\n`]);

      const checked = await runCli(['check'], { ...env, MAPPING_FILE: out });
      expect([checked.code, checked.stdout.trim().split('\n').at(-1)]).toEqual([0, 'Everything checks out.']);
    });
  });

  describe('relay check', () => {
    it('passes on the scenario: every check named', async () => {
      const run = await runCli(['check'], env);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(
        [
          "Checking the relay's settings, mapping and connections",
          '',
          '  ok    Settings (environment and .env)',
          `  ok    Mapping file ${env.MAPPING_FILE}`,
          `  ok    Database: SQLite ${join(e2e.dir, 'relay.db')}`,
          '  ok    Kommo: the token works (account "acme", id 30011223)',
          '  ok    Mapping against Kommo: every stage and field exists',
          `  ok    ${system}: the token works; ${organization} "Acme" (${e2e.scenario.books.organizationId}) is reachable`,
          `  ok    Mapping against ${system}: every tax and currency exists`,
          '',
          'Everything checks out.',
          '',
        ].join('\n'),
      );
    });

    it('a broken mapping: exit 1 and a readable list of every problem', async () => {
      const s = e2e.scenario;
      const file = mappingFile('broken.json', {
        invoice: { stages: [{ pipeline: 'Sales', stage: 'Invoise' }], currency: { default: 'CHF' } },
        dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 'Invoice Link' },
        payment: { stage: 'Payment Received', paidField: 'Paid' },
        tax: { defaultCountry: 'DE', rules: { DE: { tax: 'VAT 16%' }, FR: { percentage: 20 }, '*': 'none' } },
        // The backend's own section as the scenario has it (Wave's holds its other currencies: wave.exchangeRates).
        ...s.mappingSection,
      });
      const run = await runCli(['check'], { ...env, MAPPING_FILE: file });
      expect(run.code).toBe(1);
      const stages = `Sales (${s.pipelineId}): 'Incoming' (${s.stages.incoming}), 'Proposal' (${s.stages.proposal}), 'Invoice' (${s.stages.invoice}), 'Payment Received' (${s.stages.paymentReceived}), 'Retainer Active' (${s.stages.retainerActive}), 'Completed' (${s.stages.completed}), 'Closed - won' (142), 'Closed - lost' (143)`;
      const leadFields = `'Invoice ID' (${s.fields.invoiceId}, text), 'Invoice URL' (${s.fields.invoiceUrl}, url), 'Paid' (${s.fields.paid}, checkbox), 'Recurring invoice ID' (${s.fields.recurringId}, text), 'Billing frequency' (${s.fields.billingFrequency}, select)`;
      const taxes = taxList();
      expect(run.stdout.split('\n').slice(6, -3)).toEqual([
        '  FAIL  Mapping against Kommo',
        `          - MAPPING_FILE invoice.stages[0]: no stage "Invoise" in pipeline "Sales". Stages: ${stages}`,
        `          - MAPPING_FILE dealFields.invoiceUrl: no lead field "Invoice Link". Lead fields: ${leadFields}`,
        `  ok    ${system}: the token works; ${organization} "Acme" (${s.books.organizationId}) is reachable`,
        `  FAIL  Mapping against ${system}`,
        `          - MAPPING_FILE tax.rules.DE: no tax named 'VAT 16%' in ${system}. Taxes: ${taxes}`,
        `          - MAPPING_FILE tax.rules.FR: no tax of 20 % in ${system}. Taxes: ${taxes}`,
        `          - MAPPING_FILE invoice.currency.default: CHF is not a currency of the ${names.short} ${names.organization} (currencies: EUR, USD). ${addCurrency[names.id]} or change the mapping.`,
      ]);
      expect(run.stdout.trim().split('\n').at(-1)).toBe('5 problems found. Fix them and run `relay check` again.');

      const json = JSON.parse((await runCli(['check', '--json'], { ...env, MAPPING_FILE: file })).stdout);
      expect(json.ok).toBe(false);
      expect(json.checks.map((c: { name: string; status: string; problems: string[] }) => [c.name, c.status, c.problems.length])).toEqual([
        ['Settings (environment and .env)', 'ok', 0],
        [`Mapping file ${file}`, 'ok', 0],
        ['Database', 'ok', 0],
        ['Kommo', 'ok', 0],
        ['Mapping against Kommo', 'fail', 2],
        [system, 'ok', 0],
        [`Mapping against ${system}`, 'fail', 3],
      ]);
    });

    it('bad settings, a mapping file that is not JSON, and an accounting token that does not work: each named', async () => {
      const badEnv = await runCli(['check'], { ...env, WEBHOOK_SECRET: 'short' });
      expect(badEnv.code).toBe(1);
      expect(badEnv.stdout).toContain('  FAIL  Settings (environment and .env)\n          - WEBHOOK_SECRET: must be at least 16 characters (generate one with: openssl rand -hex 24)\n  skip  Everything else: needs valid settings first\n');

      const notJson = join(e2e.dir, 'not-json.json');
      writeFileSync(notJson, '{ "invoice": ');
      // On a database of its own: a refresh token the relay stores (Xero's rotate) must not replace the running relay's.
      const revoked = e2e.scenario.revokedTokenEnv;
      const run = await runCli(['check'], { ...env, MAPPING_FILE: notJson, DATABASE_URL: `sqlite:${join(e2e.dir, 'revoked.db')}`, ...revoked });
      expect(run.code).toBe(1);
      const lines = run.stdout.split('\n');
      expect(lines[3]).toBe(`  FAIL  Mapping file ${notJson}`);
      expect(lines[4]).toMatch(new RegExp(`^          - MAPPING_FILE ${notJson}: not valid JSON \\(.+\\)\\.$`));
      expect(lines).toContain('  skip  Mapping against Kommo: needs a valid mapping file');
      expect(lines).toContain(`  FAIL  ${system}`);
      expect(lines).toContain(`  skip  Mapping against ${system}: needs a valid mapping file`);
      for (const token of Object.values(revoked)) expect(run.stdout).not.toContain(token);
    });
  });

  describe('relay webhooks', () => {
    it("registers the Kommo webhook through the API once, and prints the accounting system's set-up", async () => {
      const s = e2e.scenario;
      const url = `https://relay.example.com/webhooks/kommo/${WEBHOOK_SECRET}`;
      const first = await runCli(['webhooks', '--url', 'https://relay.example.com/'], env);
      expect(first.code).toBe(0);
      const sub = s.kommo.state.webhooks.get(url)!;
      expect(sub.settings).toEqual(['add_lead', 'status_lead']);
      expect(first.stdout).toBe(
        [
          'Kommo webhook',
          `  URL     ${url}`,
          '  Events  Lead added, Lead status changed',
          `  Registered through the Kommo API (webhook id ${sub.id}).`,
          '',
          // Then the accounting system's set-up, as its backend words it (no API call: set up by hand).
          ...accountingBackend(accounting)!.webhookSetup(parseEnv(env).accounting.settings, { url: 'https://relay.example.com', secret: WEBHOOK_SECRET }).lines,
          '',
        ].join('\n'),
      );
      // The set-up names the URL the system's webhooks go to (Wave's optional: a wake-up for the reconciler).
      const hookUrl = `https://relay.example.com/webhooks/${accounting}/${WEBHOOK_SECRET}`;
      expect(first.stdout).toContain(hookUrl);
      const again = await runCli(['webhooks', '--url', 'https://relay.example.com', '--json'], env);
      expect(JSON.parse(again.stdout).kommo).toEqual({ url, events: ['add_lead', 'status_lead'], kind: 'already_registered', id: sub.id });
      expect(s.kommo.requests.filter((r) => r.method === 'POST' && r.path === '/api/v4/webhooks')).toHaveLength(1);
    });

    it("on a plan without webhooks by API: the manual steps, nothing registered; the accounting webhook secret's place is named, never its value", async () => {
      const s = e2e.scenario;
      const secret = s.webhookSecretSetting;
      s.kommo.configure({ plan: 'base' });
      try {
        const run = await runCli(['webhooks', '--url', 'https://other.example.com'], { ...env, ...(secret ? { [secret.name]: secret.value } : {}) });
        expect(run.code).toBe(0);
        expect(run.stdout.split('\n').slice(3, 7)).toEqual([
          '  Set it up by hand (Kommo refused it (403): webhooks through the API need the Advanced or Enterprise plan):',
          "    1. In Kommo open Settings › Integrations › Web hooks (or your private integration's Webhooks tab).",
          '    2. Add the URL above.',
          '    3. Tick "Lead added" and "Lead status changed", then save.',
        ]);
        // (Wave's webhooks are refused: no setting holds a secret for them.)
        if (secret) expect(run.stdout).toContain(secret.name);
        if (secret) expect(run.stdout).not.toContain(secret.value);
        expect([...s.kommo.state.webhooks.keys()].filter((d) => d.startsWith('https://other.example.com'))).toEqual([]);
      } finally {
        s.kommo.configure({ plan: 'advanced' });
      }
    });

    it('without --url nor an OAuth redirect URI: says what to pass', async () => {
      const run = await runCli(['webhooks'], Object.fromEntries(Object.entries(env).filter(([k]) => !k.endsWith('_REDIRECT_URI'))));
      expect([run.code, run.stdout, run.stderr]).toEqual([2, '', "pass the relay's public URL, e.g. --url https://relay.example.com\nUsage: relay webhooks [--url https://relay.example.com] [--no-register] [--json]\n"]);
    });
  });

  describe('relay deal, retry and status on what the running relay did', () => {
    it('a failed deal: status lists it, retry re-runs it once fixed, deal shows its invoice and timeline', async () => {
      const s = e2e.scenario;
      const { dealId, contactId } = s.addClientDeal({ email: null, contactName: 'Nora Nomail' });
      s.moveToInvoice(dealId);
      const job = await waitFor(
        () => e2e.relay.store.db.selectFrom('jobs').selectAll().where('deal_id', '=', String(dealId)).where('kind', '=', 'invoice_for_deal').where('state', '=', 'failed').executeTakeFirst(),
        'the invoice job to fail',
      );
      const reason = 'Invoice not created: the contact "Nora Nomail" has no email. Add an email to the contact, then move the deal into the invoicing stage again.';

      const status = await runCli(['status'], env);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(`  job ${job.id}  deal ${dealId}  invoice_for_deal  failed  contact_missing_email: ${reason}\n`);
      const statusJson = JSON.parse((await runCli(['status', '--json'], env)).stdout);
      expect(statusJson.failures.newest.map((j: { id: number }) => j.id)).toContain(Number(job.id));

      const before = await runCli(['deal', String(dealId)], env);
      expect(before.stdout.split('\n').slice(0, 4)).toEqual([`Deal ${dealId}: failed (invoice_for_deal): ${reason}`, `  Reference  KOMMO-${dealId}`, '', `Retry it once the cause is fixed: relay retry job ${job.id}`]);

      // The manager adds the email; the operator retries the deal and waits for the outcome.
      const emailField = [...s.kommo.state.contactFields.values()].find((f) => f.code === 'EMAIL')!;
      s.kommo.state.contacts.get(contactId)!.customFields.push({ fieldId: emailField.id, values: [{ value: 'nora@example.com', enumCode: 'WORK' }] });
      const retried = await runCli(['retry', 'deal', String(dealId), '--wait'], env);
      expect([retried.code, retried.stderr]).toEqual([0, '']);
      expect(retried.stdout).toBe(`Job ${job.id} (invoice_for_deal, deal ${dealId}) is queued again and runs as soon as the relay's worker picks it up.\nJob ${job.id} is done.\n`);
      const invoice = dealInvoices(s, dealId);
      expect(invoice).toHaveLength(1);
      expect(dealField(dealId, s.fields.invoiceId)).toBe(invoice[0]!.id);

      const after = await runCli(['deal', String(dealId)], env);
      const lines = after.stdout.split('\n');
      expect(lines.slice(0, 5)).toEqual([
        `Deal ${dealId}: invoiced: ${invoice[0]!.number}`,
        `  Invoice    ${invoice[0]!.number} (${names.short} id ${invoice[0]!.id}), open, emailed`,
        `  Link       ${invoice[0]!.url}`,
        `  Reference  KOMMO-${dealId}`,
        `  Customer   ${names.short} id ${invoice[0]!.customerId}`,
      ]);
      // What the system's own notifications about the new invoice caused (Xero tells of every create and send)
      // is beside the point here and may or may not have happened yet.
      const ownNotifications = new RegExp(`${accounting}_invoice_changed|payment_to_deal`);
      const timeline = lines
        .slice(lines.indexOf('Timeline (UTC)') + 1, lines.indexOf('Jobs') - 1)
        .map((l) => l.replace(/^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +/, '').replace(/^(\S+( \d+)?) +/, '$1  '))
        .filter((l) => !ownNotifications.test(l));
      expect(timeline).toEqual([
        'event  kommo: deal_entered_invoice_stage',
        `job ${job.id}  invoice_for_deal attempt 1: failed (contact_missing_email: ${reason})`,
        expect.stringMatching(/^job \d+  deal_note attempt 1: done$/),
        `note  note on the deal (sent): ${reason}`,
        `job ${job.id}  invoice_for_deal attempt 1: done`,
        `write  invoice field 'Invoice ID' = "${invoice[0]!.id}" (done)`,
        `write  invoice field 'Invoice URL' = "${invoice[0]!.url}" (done)`,
      ]);
      const json = await runCli(['deal', String(dealId), '--json'], env);
      expect(JSON.parse(json.stdout)).toMatchObject({ dealId: String(dealId), state: { kind: 'invoiced' }, accounting: { invoiceId: invoice[0]!.id, emailed: true } });

      const twice = await runCli(['retry', 'job', String(job.id)], env);
      expect([twice.code, twice.stderr]).toEqual([1, `Job ${job.id} is done: only failed or dead jobs can be retried (it finished successfully).\n`]);
    });

    it('a deal whose invoice job skipped it (it had left the stage): retry refuses and says what to do instead', async () => {
      const s = e2e.scenario;
      const { dealId } = s.addClientDeal();
      s.moveToInvoice(dealId);
      s.kommo.moveLeads([dealId], s.stages.proposal); // before the relay's job reads it
      await waitFor(
        () => e2e.relay.store.db.selectFrom('jobs').select('id').where('deal_id', '=', String(dealId)).where('state', '=', 'done').executeTakeFirst(),
        'the invoice job to finish',
      );
      const run = await runCli(['retry', 'deal', String(dealId)], env);
      expect([run.code, run.stdout]).toEqual([1, '']);
      expect(run.stderr).toBe(
        `Deal ${dealId} has no failed job to retry: not invoiced: deal is no longer in an invoicing stage (now status ${s.stages.proposal} in pipeline ${s.pipelineId}). Retrying would skip it again: move the deal into the invoicing stage in Kommo and the relay invoices it.\n`,
      );
      expect(dealInvoices(s, dealId)).toEqual([]);
      const unknown = await runCli(['deal', '999999'], env);
      expect([unknown.code, unknown.stderr]).toEqual([1, 'The relay knows nothing about deal 999999: no webhook, reconcile or job has concerned it.\n']);
    });

    it('status: exact figures of the queue and the last reconcile', async () => {
      await e2e.relay.reconciler.sweep();
      await waitFor(async () => {
        const c = await e2e.relay.queue.countByState();
        return c.queued + c.running === 0;
      }, 'the queue to settle');
      const figures = await e2e.relay.store.db.selectFrom('jobs').select(['state', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
      const n = (state: string) => Number(figures.find((f) => f.state === state)?.n ?? 0);
      const run = await runCli(['status', '--json'], env);
      const json = JSON.parse(run.stdout);
      expect(json.queue).toEqual({ byState: { queued: n('queued'), running: n('running'), done: n('done'), failed: n('failed'), dead: n('dead') }, due: json.queue.due, waitingToRetry: json.queue.waitingToRetry });
      expect(json.queue.byState.failed).toBe(0); // the only failure was retried
      expect(json.failures).toEqual({ count: 0, newest: [] });
      expect(json.lastReconcile).toMatchObject({ errors: [], invoiceJobs: 0 });
      const human = await runCli(['status'], env);
      expect(human.stdout.split('\n').slice(0, 4)).toEqual([
        `Queue: ${json.queue.due} due now, ${json.queue.waitingToRetry} waiting to retry, ${n('running')} running`,
        `Jobs:  ${n('queued')} queued, ${n('running')} running, ${n('done')} done, 0 failed, 0 dead`,
        '',
        'Failures not yet settled: none',
      ]);
      expect(human.stdout).toMatch(/\nLast reconcile: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, \d+ deals and \d+ invoices checked, 0 invoice and 0 payment jobs added\n$/);
    });

    it('usage errors exit 2 with the usage line', async () => {
      expect(await runCli(['retry', '12'], env)).toEqual({ code: 2, stdout: '', stderr: 'say what to retry: relay retry job <job id>, or relay retry deal <deal id>\nUsage: relay retry job <job id> | retry deal <deal id> [--wait [--timeout 60]] [--json]\n' });
      expect((await runCli(['status', '--bogus'], env)).stderr).toBe('unknown option --bogus\nUsage: relay status [--json]\n');
      expect((await runCli(['nope'], env)).code).toBe(2);
    });
  });
});
