// Shared e2e plumbing: a scenario on both fake servers (Kommo and the accounting system the test names)
// plus the relay started in-process on a real SQLite file, with every log line captured (tests check that
// no secret ever reaches them).
import { parseEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { startRelay, type Relay } from '../../src/relay.js';
import type { BooksInvoice } from '../../sandbox/books/view.js';
import { startScenario, type Scenario, type ScenarioOptions } from '../../sandbox/scenario.js';
import { logLineProblems } from './log-lines.js';
import { tempDir } from './tmp.js';

export interface E2E {
  scenario: Scenario;
  relay: Relay;
  logs: string[];
  dir: string;
  restart(overrides?: Record<string, string>): Promise<Relay>;
  close(): Promise<void>;
}

export interface E2EOptions extends Omit<ScenarioOptions, 'dir'> {
  env?: Record<string, string>;
  /** Runs before the relay starts: seed more data, rewrite the mapping file. */
  prepare?: (s: Scenario) => void | Promise<void>;
}

export async function startE2E(opts: E2EOptions = {}): Promise<E2E> {
  const dir = tempDir('relay-e2e-');
  const scenario = await startScenario({ ...opts, dir: dir.path });
  const logs: string[] = [];
  const start = async (overrides: Record<string, string> = {}) => {
    const env = parseEnv(scenario.env({ ...opts.env, ...overrides }));
    const log = createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(line) } });
    const relay = await startRelay(env, { log });
    scenario.connectRelay(relay.url);
    return relay;
  };
  let first: Relay;
  try {
    await opts.prepare?.(scenario);
    first = await start();
  } catch (err) {
    // Nothing left running when the set-up or the start fails (a test of a refused start makes its own scenario).
    await scenario.close();
    dir.cleanup();
    throw err;
  }
  const e2e: E2E = {
    scenario,
    relay: first,
    logs,
    dir: dir.path,
    async restart(overrides) {
      await e2e.relay.stop();
      e2e.relay = await start(overrides);
      return e2e.relay;
    },
    async close() {
      await e2e.relay.stop();
      await scenario.close();
      dir.cleanup();
      // Every e2e run ends with no request or answer outside the accounting system's contract (whichever
      // fake ran), and log lines a machine can read: one JSON object each, every key once (see log-lines.ts).
      const violations = scenario.books.violations;
      if (violations.length) throw new Error(`contract violations:\n${JSON.stringify(violations.slice(0, 10), null, 2)}`);
      const problems = logLineProblems(logs);
      if (problems.length) throw new Error(`log lines a machine cannot read:\n${problems.slice(0, 10).join('\n')}`);
    },
  };
  return e2e;
}

export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * How a change made in the accounting system (a payment) reaches the relay where the system tells it nothing
 * (books.facts.payments 'reconciler': Wave, polled): the reconciler's sweep, run now as its interval would.
 * Where the system sends its webhook (Zoho, Xero), the change already went with it: nothing to do.
 */
export async function polled(e: E2E): Promise<void> {
  if (e.scenario.books.facts.payments === 'reconciler') {
    const result = await e.relay.reconciler.sweep();
    if (result.errors.length) throw new Error(`the reconciler's sweep failed: ${result.errors.join('; ')}`);
  }
}

/** The answer the relay gives the system's own webhooks: 200 (taken, or a wake-up for the reconciler: Wave's). */
export const webhookAnswer = (_s: Scenario): number => 200;

/** The invoices that carry the deal's stamp, whichever accounting system runs. */
export function dealInvoices(s: Scenario, dealId: number): BooksInvoice[] {
  return s.books.invoicesWithReference(`KOMMO-${dealId}`);
}

/** The value of a deal's custom field in the fake Kommo. */
export function dealField(s: Scenario, dealId: number, fieldId: number): unknown {
  return s.kommo.state.leads.get(dealId)?.customFields.find((f) => f.fieldId === fieldId)?.values[0]?.value;
}

/** The texts of the notes on a deal, oldest first. */
export function notesOf(s: Scenario, dealId: number): string[] {
  return [...s.kommo.state.notes.values()].filter((n) => n.entityId === dealId).map((n) => String(n.params.text));
}

/** Zoho requests the relay made, by method and path (e.g. 'GET /books/v3/contacts'). */
export function zohoCalls(s: Scenario, since = 0): string[] {
  return s.zoho.requests.slice(since).map((r) => `${r.method} ${r.path}`);
}

export function invoicesOf(s: Scenario, dealId: number) {
  return [...s.zoho.state.invoices.values()].filter((i) => i.referenceNumber === `KOMMO-${dealId}`);
}
