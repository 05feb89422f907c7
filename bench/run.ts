// Entry of `npm run bench`: runs every benchmark in turn and prints one table of figures against their
// targets, with the machine they were taken on (figures mean little without it).
//   node dist/bench/run.js [--quick] [--cpu-prof=<dir>]
//   --quick      a short run (1000 closed-loop requests, 2 s open loop) to check the bench itself
//   --cpu-prof   also write a V8 CPU profile of the relay child (open it in Chrome DevTools)
import os from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { benchCalls, type CallsResult, type InvoiceCalls } from './calls.js';
import { benchIngest, type IngestOptions, type IngestResult } from './ingest.js';
import { releaseAll } from './temp.js';
import { mib, ms, perSecond, renderTable, us, type Row } from './table.js';

const TARGET = { ackP99Ms: 10, throughputRatio: 0.5, zohoCallsNew: 3, zohoCallsRepeat: 1 };

function options(argv: string[]): IngestOptions & { cpuProfDir?: string } {
  const quick = argv.includes('--quick');
  const prof = argv.find((a) => a.startsWith('--cpu-prof'));
  const cpuProfDir = prof ? resolve(prof.split('=')[1] ?? 'bench-profiles') : undefined;
  return {
    requests: quick ? 1000 : 5000,
    concurrency: 50,
    warmup: quick ? 200 : 1000,
    rate: 1000,
    openSeconds: quick ? 2 : 5,
    ...(cpuProfDir ? { cpuProfDir, relayNodeArgs: ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] } : {}),
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

function callRows(c: CallsResult): Row[] {
  const { newCustomer: n, repeatCustomer: r } = c;
  return [
    { section: 'API calls per invoice (sandbox, relay in-process)' },
    { name: 'Zoho Books calls, new customer', value: String(n.zoho.length), target: `<= ${TARGET.zohoCallsNew}`, pass: n.zoho.length <= TARGET.zohoCallsNew },
    { name: 'Zoho Books calls, repeat customer', value: String(r.zoho.length), target: `<= ${TARGET.zohoCallsRepeat}`, pass: r.zoho.length <= TARGET.zohoCallsRepeat },
    { name: 'Zoho token requests (new / repeat)', value: `${n.zohoToken.length} / ${r.zohoToken.length}` },
    { name: 'Kommo calls (new / repeat)', value: `${n.kommo.length} / ${r.kommo.length}` },
    { name: 'stage move -> Invoice URL (new / repeat)', value: `${ms(n.ms)} / ${ms(r.ms)}` },
  ];
}

function callLists(c: CallsResult): string {
  const list = (calls: string[]) => (calls.length ? calls.join(', ') : '(none)');
  const block = (label: string, k: InvoiceCalls) => `${label}:\n  Zoho:  ${list(k.zoho)}\n  token: ${list(k.zohoToken)}\n  Kommo: ${list(k.kommo)}`;
  return [block('new customer', c.newCustomer), block('repeat customer', c.repeatCustomer)].join('\n');
}

async function main(): Promise<void> {
  const opts = options(process.argv.slice(2));
  const host = machine();
  const started = performance.now();
  process.stderr.write('ingest benchmark (bare Express, then the relay)...\n');
  const ingest = await benchIngest(opts);
  process.stderr.write('API calls per invoice...\n');
  const calls = await benchCalls();
  const rows = [...ingestRows(ingest, opts), ...callRows(calls)];

  console.log(`\nMachine: ${host}\n`);
  console.log(renderTable(rows));
  console.log(`\nCalls per invoice:\n${callLists(calls)}`);
  const failed = rows.filter((r) => 'pass' in r && r.pass === false).length;
  console.log(`\n${failed ? `${failed} target(s) missed` : 'all targets met'}; took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (opts.cpuProfDir) console.log(`CPU profile of the relay: ${opts.cpuProfDir}`);
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
