// API calls per invoice: the relay in-process against the sandbox, one deal of a new customer and then a
// second deal of the same Kommo contact, counting what the relay asked of Zoho Books and Kommo for each.
// Calls are what the rate limits (Zoho 100/min, Kommo 7/s) and Zoho's daily plan cap are spent on.
import { performance } from 'node:perf_hooks';
import { parseEnv } from '../src/config/env.js';
import { startRelay, type Relay } from '../src/relay.js';
import { startScenario, type Scenario } from '../sandbox/scenario.js';
import type { RecordedRequest } from '../sandbox/common.js';
import { Resources } from './temp.js';

export interface InvoiceCalls {
  /** Zoho Books API calls, e.g. 'POST /books/v3/invoices'. */
  zoho: string[];
  /** Zoho Accounts token requests (minting an access token), kept apart from API calls. */
  zohoToken: string[];
  kommo: string[];
  /** From the deal entering the stage to its Invoice URL field being set. */
  ms: number;
}

export interface CallsResult {
  newCustomer: InvoiceCalls;
  repeatCustomer: InvoiceCalls;
}

export async function benchCalls(): Promise<CallsResult> {
  const res = new Resources();
  try {
    const dir = res.tempDir('relay-bench-calls-');
    const scenario = await startScenario({ dir });
    res.add(() => scenario.close());
    const relay = await startRelay(
      parseEnv(
        scenario.env({
          LOG_LEVEL: 'silent',
          // No reconciler sweeps: their calls would mix with the invoice's.
          RECONCILE_INTERVAL_SECONDS: '0',
          // No job is running when we stop (each was awaited), and a longer timeout would only keep this
          // process alive: Worker.stop leaves its shutdown timer pending.
          SHUTDOWN_TIMEOUT_SECONDS: '0',
        }),
      ),
    );
    res.add(() => relay.stop());
    scenario.connectRelay(relay.url);

    const first = scenario.addClientDeal({ name: 'Аудит сайта + SEO', contactName: 'Анна Шмидт', email: 'anna.schmidt@example.de' });
    const newCustomer = await invoiceOne(scenario, relay, first.dealId);
    const second = scenario.addClientDeal({ name: 'Поддержка сайта, декабрь', contactId: first.contactId });
    const repeatCustomer = await invoiceOne(scenario, relay, second.dealId);
    if (scenario.zoho.violations.length) throw new Error(`the relay sent Zoho bodies its OpenAPI document rejects: ${JSON.stringify(scenario.zoho.violations)}`);
    return { newCustomer, repeatCustomer };
  } finally {
    await res.release();
  }
}

/** Moves the deal into the invoicing stage and returns the calls made from then until its job is done. */
async function invoiceOne(s: Scenario, relay: Relay, dealId: number): Promise<InvoiceCalls> {
  // The relay throttles itself to Kommo's 7 calls/s; let the window of earlier calls pass so the time
  // measured is this invoice's own, not a wait behind start-up or the previous deal.
  await new Promise((r) => setTimeout(r, KOMMO_WINDOW_MS));
  // Everything before this point (start-up, the previous deal) is not this invoice's doing.
  const since = { zoho: s.zoho.requests.length, kommo: s.kommo.requests.length };
  const started = performance.now();
  s.moveToInvoice(dealId);
  await until(() => invoiceUrlOf(s, dealId), `deal ${dealId} to show its Invoice URL`);
  const ms = performance.now() - started;
  await until(async () => {
    const job = await relay.store.db.selectFrom('jobs').select('state').where('deal_id', '=', String(dealId)).where('state', '=', 'done').executeTakeFirst();
    return job !== undefined;
  }, `the invoice job of deal ${dealId} to finish`);
  // The relay's own field write fires update webhooks back at it; let them land so that any call they
  // (wrongly) caused is counted against this invoice.
  await s.kommo.flushWebhooks();
  await new Promise((r) => setTimeout(r, 300));

  const zoho = s.zoho.requests.slice(since.zoho);
  const isToken = (r: RecordedRequest) => r.path.startsWith('/oauth');
  return {
    zoho: zoho.filter((r) => r.path.startsWith('/books/v3')).map(call),
    zohoToken: zoho.filter(isToken).map(call),
    kommo: s.kommo.requests.slice(since.kommo).filter((r) => r.path.startsWith('/api/v4')).map(call),
    ms,
  };
}

const KOMMO_WINDOW_MS = 1100;
const call = (r: RecordedRequest) => `${r.method} ${r.path}`;

function invoiceUrlOf(s: Scenario, dealId: number): unknown {
  return s.kommo.state.leads.get(dealId)?.customFields.find((f) => f.fieldId === s.fields.invoiceUrl)?.values[0]?.value;
}

async function until(check: () => unknown, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
