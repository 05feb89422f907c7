// `relay check`: is this relay set up right? The settings, the mapping file, the database, both tokens,
// the accounting organization, and every stage, field, tax, currency and way of paying online the mapping names —
// checked the way the relay itself resolves them at start-up (resolve-mapping.ts, sync/tax-rules.ts,
// sync/pay-online.ts), so what passes here
// starts there. Prints every problem at once; exits 1 when there is any.
import { ConfigError, databaseTarget, type Env } from '../config/env.js';
import { loadMappingFile, type Mapping } from '../config/mapping.js';
import { catalogueNeeds, resolveMapping } from '../config/resolve-mapping.js';
import type { KommoAccount } from '../kommo/types.js';
import type { Clients } from '../startup/clients.js';
import { namesOf, resolvePayOnline } from '../sync/pay-online.js';
import { resolveTaxRules } from '../sync/tax-rules.js';
import type { Args } from './args.js';
import type { CliContext } from './context.js';
import { problemsOf } from './format.js';
import { readKommoCatalogue } from './kommo-catalogue.js';

export interface Check {
  name: string;
  status: 'ok' | 'fail' | 'skip';
  detail?: string;
  problems: string[];
}

export async function check(ctx: CliContext, args: Args): Promise<number> {
  const checks = await runChecks(ctx);
  const failed = checks.filter((c) => c.status === 'fail');
  if (args.flags.has('json')) {
    ctx.io.out(JSON.stringify({ ok: failed.length === 0, checks }, null, 2));
  } else {
    const label = { ok: 'ok  ', fail: 'FAIL', skip: 'skip' } as const;
    const lines = checks.flatMap((c) => [`  ${label[c.status]}  ${c.name}${c.detail ? `: ${c.detail}` : ''}`, ...c.problems.map((p) => `          - ${p}`)]);
    const problems = failed.reduce((n, c) => n + c.problems.length, 0);
    const summary = failed.length === 0 ? 'Everything checks out.' : `${problems} problem${problems === 1 ? '' : 's'} found. Fix ${problems === 1 ? 'it' : 'them'} and run \`relay check\` again.`;
    ctx.io.out(['Checking the relay\'s settings, mapping and connections', '', ...lines, '', summary].join('\n'));
  }
  return failed.length === 0 ? 0 : 1;
}

const ok = (name: string, detail?: string): Check => ({ name, status: 'ok', ...(detail ? { detail } : {}), problems: [] });
const fail = (name: string, problems: string[], detail?: string): Check => ({ name, status: 'fail', ...(detail ? { detail } : {}), problems });
const skip = (name: string, why: string): Check => ({ name, status: 'skip', detail: why, problems: [] });

async function runChecks(ctx: CliContext): Promise<Check[]> {
  let env: Env;
  try {
    env = ctx.settings();
  } catch (err) {
    return [fail('Settings (environment and .env)', problemsOf(err)), skip('Everything else', 'needs valid settings first')];
  }
  const checks: Check[] = [ok('Settings (environment and .env)')];

  let mapping: Mapping | undefined;
  try {
    mapping = loadMappingFile(env.MAPPING_FILE, env.accounting.backend);
    checks.push(ok(`Mapping file ${env.MAPPING_FILE}`));
  } catch (err) {
    checks.push(fail(`Mapping file ${env.MAPPING_FILE}`, problemsOf(err)));
  }

  const system = env.accounting.backend.names.system;
  let clients: Clients;
  try {
    await ctx.db();
    checks.push(ok('Database', describeDatabase(env.DATABASE_URL)));
  } catch (err) {
    checks.push(fail('Database', problemsOf(err), describeDatabase(env.DATABASE_URL)), skip(`Kommo and ${system}`, 'need the database (OAuth connections are stored there)'));
    return checks;
  }
  try {
    clients = await ctx.clients();
  } catch (err) {
    // e.g. ENCRYPTION_KEY does not open the tokens stored in the database.
    checks.push(fail('Stored connections', problemsOf(err)), skip(`Kommo and ${system}`, 'need the stored connections'));
    return checks;
  }

  const account = await checkKommo(clients, checks);
  if (!mapping) checks.push(skip('Mapping against Kommo', 'needs a valid mapping file'));
  else if (!account) checks.push(skip('Mapping against Kommo', 'needs a working Kommo connection'));
  else {
    try {
      resolveMapping(mapping, await readKommoCatalogue(clients.kommo, catalogueNeeds(mapping)));
      checks.push(ok('Mapping against Kommo', 'every stage and field exists'));
    } catch (err) {
      checks.push(fail('Mapping against Kommo', problemsOf(err)));
    }
  }

  const accountingOk = await checkAccounting(clients, checks);
  if (!mapping) checks.push(skip(`Mapping against ${system}`, 'needs a valid mapping file'));
  else if (!accountingOk) checks.push(skip(`Mapping against ${system}`, `needs a working ${system} connection`));
  else checks.push(await checkAccountingMapping(clients, mapping, account));
  return checks;
}

async function checkKommo(clients: Clients, checks: Check[]): Promise<KommoAccount | undefined> {
  const name = 'Kommo';
  if (!(await clients.kommoAuth.connected())) {
    checks.push(fail(name, ['Kommo is not connected: log in on /connect with ADMIN_TOKEN and connect Kommo (or set KOMMO_ACCESS_TOKEN).']));
    return undefined;
  }
  try {
    const account = await clients.kommo.getAccount();
    checks.push(ok(name, `the token works (account "${account.name ?? account.subdomain}", id ${account.id})`));
    return account;
  } catch (err) {
    checks.push(fail(name, problemsOf(err)));
    return undefined;
  }
}

async function checkAccounting(clients: Clients, checks: Check[]): Promise<boolean> {
  const name = clients.backend.names.system;
  try {
    const result = await clients.accounting.checkConnection();
    checks.push(result.ok ? ok(name, result.detail) : fail(name, result.problems, result.detail));
    return result.ok;
  } catch (err) {
    checks.push(fail(name, problemsOf(err)));
    return false;
  }
}

async function checkAccountingMapping(clients: Clients, mapping: Mapping, account: KommoAccount | undefined): Promise<Check> {
  const system = clients.backend.names.system;
  const name = `Mapping against ${system}`;
  const problems: string[] = [];
  let payOnline: string | undefined;
  let unconfirmed: string | undefined;
  try {
    const needsExemptions = Object.values(mapping.tax.rules).some((r) => typeof r === 'object' && 'exemption' in r);
    const port = clients.accounting.port({
      section: mapping.accounting,
      sendInvoice: mapping.invoice.send,
      ...(mapping.retainer ? { retainerNameTemplate: mapping.retainer.nameTemplate } : {}),
      ...(mapping.invoice.number ? { numberTemplate: mapping.invoice.number.template } : {}),
    });
    const asksPayOnline = mapping.invoice.payOnline !== undefined;
    const reference = await port.reference(asksPayOnline ? { exemptions: needsExemptions, payOnline: true } : { exemptions: needsExemptions });
    try {
      resolveTaxRules(mapping.tax, reference, system);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
    try {
      const ids = resolvePayOnline(mapping.invoice.payOnline, reference, system);
      if (ids) payOnline = `invoices payable online with ${namesOf(ids, reference.payOnline).map((n) => `'${n}'`).join(', ')}`;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
    // What the API could not tell is said either way (the names are checked against less than the set-up).
    if (asksPayOnline && reference.payOnline?.unconfirmed) unconfirmed = `invoice.payOnline: ${reference.payOnline.unconfirmed}`;
    const codes = reference.currencies.map((c) => c.code);
    const wanted = mapping.invoice.currency.default ?? account?.currency;
    if (wanted && !codes.includes(wanted.toUpperCase())) {
      const where = mapping.invoice.currency.default ? 'MAPPING_FILE invoice.currency.default' : 'The Kommo account currency (used when invoice.currency.default is not set)';
      problems.push(`${where}: ${wanted} is not a currency of the ${clients.backend.names.short} ${clients.backend.names.organization} (currencies: ${codes.join(', ') || 'none'}). ${clients.accounting.addCurrencyHint ?? `Add it in ${system} (Settings › Currencies)`} or change the mapping.`);
    }
  } catch (err) {
    return fail(name, problemsOf(err));
  }
  if (problems.length) return fail(name, problems, unconfirmed && `note: ${unconfirmed}`);
  const detail = ['every tax and currency exists', payOnline, unconfirmed && `note: ${unconfirmed}`].filter(Boolean).join('; ');
  return ok(name, detail);
}

/** Where the database is, never with a password. */
function describeDatabase(url: string): string {
  try {
    const target = databaseTarget(url);
    if (target.dialect === 'sqlite') return `SQLite ${target.location}`;
    const u = new URL(target.location);
    return `PostgreSQL ${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}
