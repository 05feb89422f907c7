// `npm run demo`: the sandbox (fake Kommo and Zoho Books on loopback) and the relay on the embedded
// database, end to end. A manager moves a sample deal into the invoicing stage; the demo prints what the
// relay did: customer, invoice, email, deal fields.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from '../src/config/env.js';
import { createLogger } from '../src/log.js';
import { startRelay } from '../src/relay.js';
import { startScenario } from './scenario.js';

const dir = mkdtempSync(join(tmpdir(), 'relay-demo-'));
const scenario = await startScenario({ dir });
const relay = await startRelay(parseEnv(scenario.env({ LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' })), {
  log: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }),
});
scenario.connectRelay(relay.url);

const say = (s = '') => process.stdout.write(`${s}\n`);
try {
  say(`Fake Kommo      ${scenario.kommoUrl}`);
  say(`Fake Zoho Books ${scenario.zohoUrl}`);
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
  const customer = [...scenario.zoho.state.contacts.values()][0]!;
  const invoice = [...scenario.zoho.state.invoices.values()][0]!;
  const email = scenario.zoho.emails[0];
  say(`2. Zoho Books customer ${customer.contactId} "${customer.name}" created (searched by email first).`);
  say(`3. Invoice ${invoice.invoiceNumber} (${invoice.invoiceId}), reference ${invoice.referenceNumber}, status ${invoice.status}.`);
  say(`4. Emailed to ${email?.to.join(', ') ?? '(nobody!)'}.`);
  say(`5. Deal fields in Kommo: Invoice ID = ${String(fieldValue(scenario.fields.invoiceId))}`);
  say(`                         Invoice URL = ${String(fieldValue(scenario.fields.invoiceUrl))}`);
  say();
  const zohoCalls = scenario.zoho.requests.filter((r) => r.path.startsWith('/books/v3')).map((r) => `${r.method} ${r.path}`);
  say(`Done in ${ms} ms. Zoho Books calls: ${zohoCalls.join(', ')}.`);
  say(`Requests to Zoho and its answers that broke Zoho's OpenAPI contract: ${scenario.zoho.violations.length}.`);
} finally {
  await relay.stop();
  await scenario.close();
  rmSync(dir, { recursive: true, force: true });
}
