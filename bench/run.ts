// Entry of `npm run bench`: runs every benchmark in turn and prints one table of figures against their
// targets, with the machine they were taken on (figures mean little without it).
//   node dist/bench/run.js [--quick] [--only=<names>] [--accounting=<ids>] [--seed=<n>] [--cpu-prof=<dir>]
//   --quick      small sizes (a check of the bench itself, ~4 min); the full run takes ~25 min
//   --only       a comma-separated subset of: ingest, calls, latency, fuzz, flood, crash, faults, multi,
//                multi-intake (only the intake figures of multi)
//   --accounting the accounting systems `calls` and `flood` run against: zoho, xero (default both; the other
//                scenarios run against Zoho)
//   --seed       the seed of the random parts (kill moments, fuzz bodies), to replay a run
//   --cpu-prof   also write a V8 CPU profile of the ingest relay child and of the multi-intake relays (open it in Chrome DevTools)
import os from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchCalls, type CallsResult, type InvoiceCalls } from './calls.js';
import { benchIngest, type IngestOptions, type IngestResult } from './ingest.js';
import { benchMultiIntake } from './multi-intake.js';
import { multiFloodRows, multiIntakeRows, multiLatencyRows } from './multi-rows.js';
import { runMultiFlood } from './scenarios/multi.js';
import { runCrash, type CrashResult } from './scenarios/crash.js';
import { runFaults, type FaultResult, type ServiceFaults } from './scenarios/faults.js';
import { runFlood, type FloodResult } from './scenarios/flood.js';
import { runFuzz, type FuzzResult } from './scenarios/fuzz.js';
import { runLatency, type LatencyResult } from './scenarios/latency.js';
import { describeScale, newSeed, REAL_LIMITS, timeScale, type Ledger, type TimeScale } from './scenarios/world.js';
import { SANDBOX_ACCOUNTING, type SandboxAccounting } from '../sandbox/scenario.js';
import { releaseAll } from './temp.js';
import { mib, ms, perSecond, renderTable, us, type Row } from './table.js';

const TARGET = {
  ackP99Ms: 10,
  throughputRatio: 0.5,
  zohoCallsNew: 3,
  zohoCallsRepeat: 1,
  /** Search, create contact, create invoice, email, online link; a repeat customer's contact costs no call. */
  xeroCallsNew: 5,
  xeroCallsRepeat: 3,
  /** Flood: total time at most this much over the least the rate limit allows. */
  floodOverMinimum: 0.1,
  floodRssMiB: 150,
  /** End to end: p50 at most this much over the critical path. */
  e2eOverCriticalPathMs: 50,
  /** The longest the event loop may stand still for one webhook of 256 KB, however it is built. */
  webhookBlockMs: 20,
};

const SCENARIOS = ['ingest', 'calls', 'latency', 'fuzz', 'flood', 'crash', 'faults', 'multi', 'multi-intake'] as const;
type Scenario = (typeof SCENARIOS)[number];

/** Sizes: the full run, and --quick (the chaos tests in test/chaos use sizes like the quick ones). */
interface Sizes {
  floodDeals: number;
  crashDeals: number;
  kills: number;
  faultDeals: number;
  fuzzBodies: number;
  latencyDeals: number;
  /** Several relays on PostgreSQL: webhooks for the intake figures. */
  multiRequests: number;
}
const FULL: Sizes = { floodDeals: 1000, crashDeals: 300, kills: 10, faultDeals: 300, fuzzBodies: 10_000, latencyDeals: 50, multiRequests: 5000 };
const QUICK: Sizes = { floodDeals: 100, crashDeals: 100, kills: 3, faultDeals: 60, fuzzBodies: 1000, latencyDeals: 10, multiRequests: 1000 };
/** Time x7: Zoho's 100 requests per 60 s become 100 per 8.57 s, Xero's 60 a minute 420 a minute, Kommo's 7/s
 *  become 49/s (50/s is the most KOMMO_RATE_LIMIT_PER_SECOND allows). */
const SCALE = timeScale(7);
const LATENCY_MS = 50;

interface Options {
  quick: boolean;
  sizes: Sizes;
  only: Set<Scenario>;
  /** The accounting systems `calls` and `flood` run against. */
  accounting: SandboxAccounting[];
  seed: number;
  ingest: IngestOptions & { cpuProfDir?: string };
}

function options(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const prof = argv.find((a) => a.startsWith('--cpu-prof'));
  const cpuProfDir = prof ? resolve(prof.split('=')[1] ?? 'bench-profiles') : undefined;
  const only = value('only')?.split(',').map((n) => n.trim()) ?? SCENARIOS.filter((n) => n !== 'multi-intake');
  const unknown = only.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
  if (unknown.length) throw new Error(`--only: unknown ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  // Wave is not in the default set: the flood's time scaling (scenarios/world.ts) knows Zoho's and Xero's limits only.
  const accounting = value('accounting')?.split(',').map((n) => n.trim()) ?? SANDBOX_ACCOUNTING.filter((a) => a !== 'wave');
  const unknownAccounting = accounting.filter((n) => !(SANDBOX_ACCOUNTING as readonly string[]).includes(n));
  if (unknownAccounting.length) throw new Error(`--accounting: unknown ${unknownAccounting.join(', ')}; choose from ${SANDBOX_ACCOUNTING.join(', ')}`);
  return {
    quick,
    sizes: quick ? QUICK : FULL,
    only: new Set(only as Scenario[]),
    accounting: accounting as SandboxAccounting[],
    seed: value('seed') ? Number(value('seed')) : newSeed(),
    ingest: {
      requests: quick ? 1000 : 5000,
      concurrency: 50,
      warmup: quick ? 200 : 1000,
      rate: 1000,
      openSeconds: quick ? 2 : 5,
      ...(cpuProfDir ? { cpuProfDir, relayNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] } : {}),
    },
  };
}

function machine(): string {
  const cpus = os.cpus();
  // The load average at the start says whether something else was competing for the CPU.
  const load = os.loadavg()[0]!.toFixed(2);
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}; load average ${load} at start`;
}

function ingestRows(r: IngestResult, o: IngestOptions): Row[] {
  const ratio = r.relay.closed.throughput / r.bare.closed.throughput;
  const p99 = r.relay.open.p99;
  const stored = r.relay.storedEvents === r.relay.acknowledged;
  return [
    { section: `Ingest, open loop (${o.rate}/s for ${o.openSeconds} s after ${o.warmup} warm-up requests; latency from scheduled send)` },
    { name: 'relay ack p50 / p99', value: `${ms(r.relay.open.p50)} / ${ms(p99)}`, target: `p99 < ${TARGET.ackP99Ms} ms`, pass: p99 < TARGET.ackP99Ms },
    { name: 'relay ack max', value: ms(r.relay.open.max) },
    { name: 'bare ack p50 / p99', value: `${ms(r.bare.open.p50)} / ${ms(r.bare.open.p99)}` },
    { name: 'relay non-2xx', value: String(r.relay.open.failed), target: '0', pass: r.relay.open.failed === 0 },
    { name: 'achieved rate (relay)', value: perSecond(r.relay.open.throughput) },
    { section: `Ingest, closed loop (${o.requests} requests, concurrency ${o.concurrency})` },
    { name: 'relay throughput', value: perSecond(r.relay.closed.throughput) },
    { name: 'bare Express throughput', value: perSecond(r.bare.closed.throughput) },
    { name: 'relay / bare', value: `${(ratio * 100).toFixed(1)} %`, target: `>= ${TARGET.throughputRatio * 100} %`, pass: ratio >= TARGET.throughputRatio },
    { name: 'server CPU per request (relay / bare)', value: `${us(r.relay.cpuPerRequestUs)} / ${us(r.bare.cpuPerRequestUs)}` },
    { name: 'relay disk writes per request', value: r.relay.diskBytesPerRequest === undefined ? 'n/a' : `${(r.relay.diskBytesPerRequest / 1024).toFixed(1)} KiB` },
    { name: 'relay latency p50 / p99', value: `${ms(r.relay.closed.p50)} / ${ms(r.relay.closed.p99)}` },
    { name: 'bare latency p50 / p99', value: `${ms(r.bare.closed.p50)} / ${ms(r.bare.closed.p99)}` },
    { name: 'non-2xx (relay / bare)', value: `${r.relay.closed.failed} / ${r.bare.closed.failed}`, target: '0', pass: r.relay.closed.failed === 0 },
    { section: 'Ingest, durability and memory' },
    {
      name: 'stored = acknowledged',
      value: `${stored ? 'yes' : 'no'} (${r.relay.storedEvents} events, ${r.relay.jobs} jobs, ${r.relay.acknowledged} 2xx)`,
      target: 'yes',
      pass: stored && r.relay.jobs === r.relay.acknowledged,
    },
    { name: 'relay RSS after ingest (peak)', value: r.relay.memory ? `${mib(r.relay.memory.rss)} (${mib(r.relay.memory.peak)})` : 'n/a' },
    { name: 'bare RSS after ingest (peak)', value: r.bare.memory ? `${mib(r.bare.memory.rss)} (${mib(r.bare.memory.peak)})` : 'n/a' },
  ];
}

/** How each accounting system is named in the rows, and what its calls per invoice are held to. */
const BACKEND: Record<SandboxAccounting, { name: string; api: string; identity: string; contract: string; callsNew: number; callsRepeat: number }> = {
  zoho: { name: 'Zoho', api: 'Zoho Books', identity: 'Zoho token requests', contract: 'Zoho bodies outside its OpenAPI documents', callsNew: TARGET.zohoCallsNew, callsRepeat: TARGET.zohoCallsRepeat },
  xero: { name: 'Xero', api: 'Xero', identity: 'Xero identity requests (token, connections)', contract: 'Xero requests and answers outside its contract', callsNew: TARGET.xeroCallsNew, callsRepeat: TARGET.xeroCallsRepeat },
  // Wave: find or create the customer, the product (first time only; remembered), create, approve, re-read, send.
  wave: { name: 'Wave', api: 'Wave', identity: 'Wave token requests', contract: 'Wave documents outside its schema', callsNew: 8, callsRepeat: 4 },
};

function callRows(c: CallsResult): Row[] {
  const { newCustomer: n, repeatCustomer: r } = c;
  const b = BACKEND[c.accounting];
  return [
    { section: `API calls per invoice${c.accounting === 'zoho' ? '' : `, ${b.api}`} (sandbox, relay in-process)` },
    { name: `${b.api} calls, new customer`, value: String(n.api.length), target: `<= ${b.callsNew}`, pass: n.api.length <= b.callsNew },
    { name: `${b.api} calls, repeat customer`, value: String(r.api.length), target: `<= ${b.callsRepeat}`, pass: r.api.length <= b.callsRepeat },
    ...(n.after.length + r.after.length ? [{ name: `  of which after the Invoice URL (new / repeat)`, value: `${n.after.length} / ${r.after.length}` }] : []),
    { name: `${b.identity} (new / repeat)`, value: `${n.identity.length} / ${r.identity.length}` },
    { name: 'Kommo calls (new / repeat)', value: `${n.kommo.length} / ${r.kommo.length}` },
    { name: 'stage move -> Invoice URL (new / repeat)', value: `${ms(n.ms)} / ${ms(r.ms)}` },
  ];
}

function callLists(c: CallsResult): string {
  const b = BACKEND[c.accounting];
  const list = (calls: string[]) => (calls.length ? calls.join(', ') : '(none)');
  const identity = c.accounting === 'zoho' ? 'token' : 'identity';
  const block = (label: string, k: InvoiceCalls) => {
    const width = Math.max(b.name.length, identity.length, 'Kommo'.length, k.after.length ? 'after'.length : 0) + 2;
    const pad = (name: string) => `${name}:`.padEnd(width);
    return [
      `${label}:`,
      `  ${pad(b.name)}${list(k.api)}`,
      ...(k.after.length ? [`  ${pad('after')}${list(k.after)} (after the Invoice URL)`] : []),
      `  ${pad(identity)}${list(k.identity)}`,
      `  ${pad('Kommo')}${list(k.kommo)}`,
    ].join('\n');
  };
  return [block('new customer', c.newCustomer), block('repeat customer', c.repeatCustomer)].join('\n');
}

/** The promise, in one set of rows: all invoiced once, nothing duplicated, nothing lost. */
function ledgerRows(l: Ledger, accounting: SandboxAccounting = 'zoho'): Row[] {
  const dup = l.duplicateInvoices + l.duplicateCustomers + l.duplicateEmails;
  return [
    { name: 'deals with exactly one invoice (emailed once, linked)', value: `${l.invoicedOnce} of ${l.deals}`, target: `all ${l.deals}`, pass: l.invoicedOnce === l.deals },
    { name: 'duplicate invoices / customers / emails', value: `${l.duplicateInvoices} / ${l.duplicateCustomers} / ${l.duplicateEmails}`, target: '0 / 0 / 0', pass: dup === 0 },
    { name: 'lost (acknowledged, no invoice on the deal)', value: `${l.lost} of ${l.acknowledged} acknowledged`, target: '0', pass: l.lost === 0 },
    { name: 'never acknowledged (Kommo gave up re-delivering)', value: String(l.neverAcknowledged), target: '0', pass: l.neverAcknowledged === 0 },
    { name: BACKEND[accounting].contract, value: String(l.oasViolations), target: '0', pass: l.oasViolations === 0 },
  ];
}

const secs = (v: number) => `${(v / 1000).toFixed(1)} s`;
const pct = (part: number, whole: number) => (whole ? `${((part / whole) * 100).toFixed(1)} %` : 'n/a');
const count = (v: number) => v.toLocaleString('en-US');
const signedPct = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)} %` : 'n/a');

function floodRows(r: FloodResult, deals: number, scale: TimeScale): Row[] {
  const over = r.elapsedMs / r.minimumMs - 1;
  const b = BACKEND[r.accounting];
  const xero = r.accounting === 'xero';
  const perInvoice = (r.apiCalls / deals).toFixed(2);
  return [
    { section: `Flood within the limits${xero ? `, ${b.api}` : ''}: ${count(deals)} deals enter the invoicing stage at once (${describeScale(scale, r.accounting)})` },
    ...ledgerRows(r.ledger, r.accounting),
    { name: `429 answers received (${b.name} / Kommo)`, value: `${r.api429} / ${r.kommo429}`, target: '0', pass: r.api429 + r.kommo429 === 0 },
    {
      name: `total time / least the ${b.name} limit allows`,
      value: `${secs(r.elapsedMs)} / ${secs(r.minimumMs)} (${signedPct(over)})`,
      target: `within ${TARGET.floodOverMinimum * 100} %`,
      pass: over <= TARGET.floodOverMinimum,
    },
    {
      name: `  the same counting the first window's burst`,
      value: `${secs(r.elapsedMs)} / ${secs(r.minimumWithBurstMs)} (${signedPct(r.elapsedMs / r.minimumWithBurstMs - 1)})`,
    },
    { name: `${b.name} calls answered 2xx (per invoice)`, value: `${count(r.apiCalls)} (${perInvoice})`, target: `<= ${b.callsNew} per invoice`, pass: r.apiCalls <= deals * b.callsNew },
    ...(xero
      ? [
          { name: '  by what they did', value: Object.entries(r.apiCallsByOp).map(([op, n]) => `${op} ${count(n)}`).join(', ') },
          { name: '  after the last Invoice URL (not in the least time)', value: count(r.apiCallsAfter) },
          { name: `${b.identity}`, value: count(r.identityCalls) },
        ]
      : []),
    { name: 'Kommo calls; least time at its limit', value: `${count(r.kommoCalls)}; ${secs(r.kommoMinimumMs)} (${b.name}'s limit binds)` },
    { name: 'the same run in real time (x factor)', value: `${((r.elapsedMs * scale.factor) / 60_000).toFixed(1)} min` },
    ...(xero ? [{ name: `Xero day quota the same calls take (of ${count(REAL_LIMITS.xeroPerDay)})`, value: pct(r.apiCalls, REAL_LIMITS.xeroPerDay) }] : []),
    { name: 'status webhooks re-delivered (not 2xx within 2 s)', value: String(r.webhookRedeliveries) },
    {
      name: 'relay RSS after the flood (peak)',
      value: r.memory ? `${mib(r.memory.rss)} (${mib(r.memory.peak)})` : 'n/a',
      target: `< ${TARGET.floodRssMiB} MiB`,
      ...(r.memory ? { pass: r.memory.rss < TARGET.floodRssMiB } : {}),
    },
  ];
}

function crashRows(r: CrashResult, o: Sizes): Row[] {
  return [
    { section: `Crashes: ${o.crashDeals} deals, the relay SIGKILLed ${o.kills} times at random moments and restarted on the same database (seed ${r.seed})` },
    ...ledgerRows(r.ledger),
    { name: 'kills that landed with deals still open', value: String(r.kills), target: String(o.kills), pass: r.kills === o.kills },
    { name: 'job attempts cut off by a kill', value: String(r.jobs.abandonedAttempts) },
    { name: 'jobs failed / dead', value: `${r.jobs.failed} / ${r.jobs.dead}`, target: '0 / 0', pass: r.jobs.failed + r.jobs.dead === 0 },
    { name: 'longest restart (kill to /healthz); total time', value: `${secs(r.maxRestartMs)}; ${secs(r.elapsedMs)}` },
    { name: 'Zoho access tokens minted (stored token reused)', value: String(r.tokenMints) },
    { name: 'Kommo deliveries refused while down (retried); Zoho 429s', value: `${r.failedDeliveries}; ${r.zoho429} (a new process's limiter starts empty)` },
  ];
}

function serviceRow(name: string, f: ServiceFaults): Row {
  return { name, value: `${count(f.calls)} calls: ${pct(f.answered5xx, f.calls)} 5xx, ${pct(f.timedOut, f.calls)} no answer, ${f.answered429} x 429, ${f.answered401} x 401` };
}

function faultRows(r: FaultResult, deals: number): Row[] {
  const z = r.settings.zoho;
  const k = r.settings.kommo;
  const rate = (s: typeof z) => `${Math.round((s.timeoutRate + (1 - s.timeoutRate) * s.errorRate) * 100)} %`;
  return [
    {
      section: `Faults: ${deals} deals; ${rate(z)} of Zoho and ${rate(k)} of Kommo calls fail (500/503 or no answer, HTTP_TIMEOUT_MS=${r.settings.httpTimeoutMs}), ${r.settings.burst429} x 429 from each, Zoho tokens expired mid-run`,
    },
    ...ledgerRows(r.ledger),
    { name: 'jobs failed / dead', value: `${r.jobs.failed} / ${r.jobs.dead}`, target: '0 / 0', pass: r.jobs.failed + r.jobs.dead === 0 },
    serviceRow('Zoho, as injected', r.zoho),
    serviceRow('Kommo, as injected', r.kommo),
    { name: 'job attempts retried; Zoho tokens minted', value: `${r.jobs.retriedAttempts}; ${r.tokenMints} (one after the expiry)` },
    { name: 'total time', value: secs(r.elapsedMs) },
  ];
}

function fuzzRows(r: FuzzResult, planned: number): Row[] {
  const statuses = Object.entries(r.byStatus)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([code, n]) => `${code}: ${count(n)}`)
    .join(', ');
  return [
    { section: `Fuzzed input: generated and mutated webhook requests against the intake (fast-check, seed ${r.seed})` },
    { name: 'requests (Kommo / Zoho)', value: `${count(r.sent)} (${count(r.kommo)} / ${count(r.zoho)})`, target: `>= ${count(planned)}`, pass: r.sent >= planned },
    { name: '5xx answers / no answer', value: `${r.status5xx} / ${r.noAnswer}`, target: '0 / 0', pass: r.status5xx + r.noAnswer === 0 },
    { name: 'unhandled rejections / /healthz failures', value: `${r.unhandledRejections} / ${r.healthFailures}`, target: '0 / 0', pass: r.unhandledRejections + r.healthFailures === 0 },
    { name: '2xx that stored other than they said, 4xx that stored', value: String(r.storeMismatches), target: '0', pass: r.storeMismatches === 0 },
    { name: 'answers by status', value: statuses },
    { name: 'events stored (by requests)', value: `${count(r.storedEvents)} (${count(r.storedRequests)})` },
    { name: 'relay log lines at error level', value: String(r.errorLogs) },
    { name: 'pathological bodies (random; then every shape at the limit)', value: `${count(r.pathological - r.swept)}; ${count(r.swept)}` },
    {
      name: `longest event-loop block by one webhook (${Math.round(r.sweepBytes / 1024)} KB; worst shape, least of 5 rounds)`,
      value: `${ms(r.longestBlock.ms)} (${r.longestBlock.label.replace(/\/\d+KB$/, '')})`,
      target: `< ${TARGET.webhookBlockMs} ms`,
      pass: r.longestBlock.ms < TARGET.webhookBlockMs,
    },
    { name: 'the same for a small ordinary webhook; longest single request', value: `${ms(r.ordinaryBlock.ms)}; ${ms(r.worstSingleBlock.ms)} (${r.worstSingleBlock.label.replace(/\/\d+KB$/, '')})` },
  ];
}

function latencyRows(r: LatencyResult): Row[] {
  const over = r.e2e.p50 - r.criticalPathP50Ms;
  return [
    { section: `End to end: stage move -> Invoice URL on the deal, ${r.latencyMs} ms on every sandbox call, ${r.samples} deals one at a time (new customers)` },
    { name: 'end to end p50 / p99', value: `${ms(r.e2e.p50)} / ${ms(r.e2e.p99)}` },
    { name: 'critical path (sequential calls x latency)', value: `${ms(r.criticalPathP50Ms)} (${r.callsPerInvoice.p50} calls; ${r.overlappingCalls} overlapped)` },
    { name: 'p50 over the critical path', value: ms(over), target: `<= ${TARGET.e2eOverCriticalPathMs} ms`, pass: over <= TARGET.e2eOverCriticalPathMs },
    { name: 'relay overhead per deal p50 / p99', value: `${ms(r.overhead.p50)} / ${ms(r.overhead.p99)}` },
    { name: 'status webhook answered (as Kommo saw it) p50 / p99', value: `${ms(r.webhookAck.p50)} / ${ms(r.webhookAck.p99)}` },
  ];
}

function violationLines(r: FuzzResult): string {
  if (!r.violations.length) return '';
  return `\nFuzz violations (first ${r.violations.length}; replay with --only=fuzz --seed=${r.seed}):\n${r.violations
    .map((v) => `  ${v.label} -> ${v.status}: ${v.problem}\n    body: ${v.body}`)
    .join('\n')}`;
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const { sizes, only, seed } = opts;
  const host = machine();
  const started = performance.now();
  const rows: Row[] = [];
  const extra: string[] = [];
  const step = (what: string) => process.stderr.write(`${what} (${secs(performance.now() - started)} so far)...\n`);

  // The quiet, short measurements first; the long chaos runs after.
  if (only.has('ingest')) {
    step('ingest benchmark (bare Express, then the relay)');
    rows.push(...ingestRows(await benchIngest(opts.ingest), opts.ingest));
  }
  if (only.has('calls')) {
    for (const accounting of opts.accounting) {
      step(`API calls per invoice, ${accounting}`);
      const calls = await benchCalls(accounting);
      rows.push(...callRows(calls));
      extra.push(`Calls per invoice${accounting === 'zoho' ? '' : `, ${BACKEND[accounting].api}`}:\n${callLists(calls)}`);
    }
  }
  if (only.has('latency')) {
    step(`end-to-end latency, ${sizes.latencyDeals} deals`);
    rows.push(...latencyRows(await runLatency({ deals: sizes.latencyDeals, latencyMs: LATENCY_MS, scale: SCALE })));
  }
  if (only.has('fuzz')) {
    step(`intake fuzz, ${count(sizes.fuzzBodies)} requests`);
    const fuzz = await runFuzz({ bodies: sizes.fuzzBodies, seed });
    rows.push(...fuzzRows(fuzz, sizes.fuzzBodies));
    extra.push(violationLines(fuzz));
  }
  if (only.has('flood')) {
    for (const accounting of opts.accounting) {
      step(`flood, ${count(sizes.floodDeals)} deals, ${accounting}`);
      rows.push(...floodRows(await runFlood({ deals: sizes.floodDeals, scale: SCALE, accounting }), sizes.floodDeals, SCALE));
    }
  }
  if (only.has('crash')) {
    step(`crashes, ${sizes.crashDeals} deals, ${sizes.kills} kills`);
    const crash = await runCrash({ deals: sizes.crashDeals, kills: sizes.kills, scale: SCALE, seed });
    rows.push(...crashRows(crash, sizes));
    extra.push(`Kill moments, seconds after the first move (deals invoiced by then): ${crash.killAtMs.map((t, i) => `${(t / 1000).toFixed(1)} (${crash.linkedAtKill[i]})`).join(', ')}`);
  }
  if (only.has('multi') || only.has('multi-intake')) {
    // Several relays on one PostgreSQL database (README: Several relays), beside the one-process figures above.
    step(`several relays: intake with 1 and 3 processes, ${count(sizes.multiRequests)} webhooks each`);
    const intake = { requests: sizes.multiRequests, concurrency: 50, warmup: Math.round(sizes.multiRequests / 5), scale: SCALE, ...(opts.ingest.relayNodeArgs ? { nodeArgs: opts.ingest.relayNodeArgs } : {}) };
    rows.push(...multiIntakeRows(await benchMultiIntake({ ...intake, processes: 1 }), await benchMultiIntake({ ...intake, processes: 3 }), sizes.multiRequests));
  }
  if (only.has('multi')) {
    step(`several relays: flood, ${count(sizes.floodDeals)} deals through 3 processes`);
    rows.push(...multiFloodRows(await runMultiFlood({ deals: sizes.floodDeals, scale: SCALE, processes: 3 }), sizes.floodDeals, SCALE, ledgerRows));
    step(`several relays: end-to-end latency with 1 and 3 processes, ${sizes.latencyDeals} deals each`);
    const latency = { deals: sizes.latencyDeals, latencyMs: LATENCY_MS, scale: SCALE };
    rows.push(...multiLatencyRows(await runLatency({ ...latency, processes: 1 }), await runLatency({ ...latency, processes: 3 })));
  }
  if (only.has('faults')) {
    step(`faults, ${sizes.faultDeals} deals`);
    rows.push(...faultRows(await runFaults({ deals: sizes.faultDeals, scale: SCALE }), sizes.faultDeals));
  }

  console.log(`\nMachine: ${host}\n`);
  console.log(renderTable(rows));
  for (const e of extra.filter(Boolean)) console.log(`\n${e}`);
  const failed = rows.filter((r) => 'pass' in r && r.pass === false).length;
  console.log(`\n${failed ? `${failed} target(s) missed` : 'all targets met'}; ${opts.quick ? 'quick sizes; ' : ''}took ${secs(performance.now() - started)}`);
  if (opts.ingest.cpuProfDir) console.log(`CPU profile of the relay: ${opts.ingest.cpuProfDir}`);
}

// Ctrl-C mid-run: stop the children and remove the temp dirs before leaving.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: cleaning up\n`);
    void releaseAll().finally(() => process.exit(130));
  });
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
