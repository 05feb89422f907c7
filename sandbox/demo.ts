// `npm run demo [-- --backend xero|wave]`: the sandbox (a fake Kommo and a fake accounting system — Zoho Books
// by default, Xero or Wave — on loopback) and the relay on the embedded database, end to end. A manager moves a
// sample deal into the invoicing stage; the demo prints what the relay did: customer, invoice, email, deal
// fields, and the calls it made.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accountingBackend } from '../src/accounting/registry.js';
import { parseEnv } from '../src/config/env.js';
import { createLogger } from '../src/log.js';
import { startRelay } from '../src/relay.js';
import { SANDBOX_ACCOUNTING, startScenario, type SandboxAccounting } from './scenario.js';

function backendArg(argv: string[]): SandboxAccounting {
  const at = argv.findIndex((a) => a === '--backend' || a.startsWith('--backend='));
  if (at < 0) return 'zoho';
  const flag = argv[at]!;
  const value = flag.includes('=') ? flag.slice('--backend='.length) : argv[at + 1];
  if (!value || !(SANDBOX_ACCOUNTING as readonly string[]).includes(value) || !accountingBackend(value)) {
    process.stderr.write(`--backend must be one of ${SANDBOX_ACCOUNTING.filter((id) => accountingBackend(id)).join(', ')}\nUsage: npm run demo [-- --backend <id>]\n`);
    process.exit(2);
  }
  return value as SandboxAccounting;
}

const accounting = backendArg(process.argv.slice(2));
const names = accountingBackend(accounting)!.names;
const dir = mkdtempSync(join(tmpdir(), 'relay-demo-'));
const scenario = await startScenario({ dir, accounting });
const relay = await startRelay(parseEnv(scenario.env({ LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' })), {
  log: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }),
});
scenario.connectRelay(relay.url);

const say = (s = '') => process.stdout.write(`${s}\n`);
const books = scenario.books;
try {
  say(`Fake Kommo      ${scenario.kommoUrl}`);
  say(`${`Fake ${names.system}`.padEnd(16)}${scenario.accountingUrl}`);
  say(`Relay           ${relay.url}  (SQLite: ${join(dir, 'relay.db')})`);
  say();
  const { dealId } = scenario.addClientDeal({ name: 'Аудит сайта + SEO', price: 4800, email: 'anna.schmidt@example.de', contactName: 'Anna Schmidt' });
  say(`1. Deal ${dealId} "Аудит сайта + SEO" (4800) for Anna Schmidt <anna.schmidt@example.de> moves into "Sales / Invoice".`);
  const started = Date.now();
  scenario.moveToInvoice(dealId);

  const fieldValue = (fieldId: number) => scenario.kommo.state.leads.get(dealId)?.customFields.find((f) => f.fieldId === fieldId)?.values[0]?.value;
  while (!fieldValue(scenario.fields.invoiceUrl)) {
    if (Date.now() - started > 20_000) throw new Error('the deal was not invoiced within 20 s; run with LOG_LEVEL=info to see why');
    await new Promise((r) => setTimeout(r, 20));
  }
  const ms = Date.now() - started;
  const customer = books.customers()[0]!;
  const invoice = books.invoices()[0]!;
  const email = books.emails()[0];
  say(`2. ${names.system} customer ${customer.id} "${customer.name}" created (searched by email first).`);
  say(`3. Invoice ${invoice.number} (${invoice.id}), reference ${invoice.reference}, status ${invoice.systemStatus}.`);
  say(`4. Emailed to ${email?.to.join(', ') || '(nobody!)'}.`);
  say(`5. Deal fields in Kommo: Invoice ID = ${String(fieldValue(scenario.fields.invoiceId))}`);
  say(`                         Invoice URL = ${String(fieldValue(scenario.fields.invoiceUrl))}`);
  say();
  // A GraphQL call (Wave's) is named by its operation: every one is a POST to the same path.
  const operation = (body: unknown) => (body as { operationName?: unknown } | undefined)?.operationName;
  const calls = books.calls().filter((c) => c.op !== 'token' && c.op !== 'connections').map((c) => (typeof operation(c.body) === 'string' ? `${c.method} ${c.path} ${String(operation(c.body))}` : `${c.method} ${c.path}`));
  say(`Done in ${ms} ms. ${names.system} calls: ${calls.join(', ')}.`);
  say(`Requests to ${names.short} and its answers that broke ${names.short}'s published contract: ${books.violations.length}.`);
} finally {
  await relay.stop();
  await scenario.close();
  rmSync(dir, { recursive: true, force: true });
}
