// The table rows of several relays on one PostgreSQL database (bench/run.ts --only=multi).
import type { MultiIntakeResult } from './multi-intake.js';
import type { MultiFloodResult } from './scenarios/multi.js';
import type { LatencyResult } from './scenarios/latency.js';
import { describeScale, type Ledger, type TimeScale } from './scenarios/world.js';
import { ms, perSecond, us, type Row } from './table.js';

export const MULTI_TARGET = {
  /** Intake with 3 processes over intake with 1. */
  intakeRatio: 1.2,
  floodOverMinimum: 0.1,
  /** End-to-end p50 with 3 processes at most this much over the p50 with 1. */
  latencyOver: 0.1,
};

const secs = (v: number) => `${(v / 1000).toFixed(1)} s`;

export function multiIntakeRows(one: MultiIntakeResult, three: MultiIntakeResult, requests: number): Row[] {
  const ratio = three.throughput / one.throughput;
  const stored = one.storedEvents === one.acknowledged && three.storedEvents === three.acknowledged;
  return [
    { section: `Several relays on one PostgreSQL: intake only (WORKER_CONCURRENCY=0), ${requests} webhooks spread over the relays, concurrency 50` },
    { name: 'intake throughput, 1 / 3 processes', value: `${perSecond(one.throughput)} / ${perSecond(three.throughput)}` },
    { name: 'ratio 3 / 1', value: `${ratio.toFixed(2)} x`, target: `>= ${MULTI_TARGET.intakeRatio} x`, pass: ratio >= MULTI_TARGET.intakeRatio },
    {
      name: 'relays\' CPU per webhook; cores they got (1 / 3)',
      value: `${us(one.cpuPerRequestUs)} / ${us(three.cpuPerRequestUs)}; ${one.coresUsed?.toFixed(2) ?? 'n/a'} / ${three.coresUsed?.toFixed(2) ?? 'n/a'}`,
    },
    { name: 'non-2xx (1 / 3); stored = acknowledged', value: `${one.failed} / ${three.failed}; ${stored ? 'yes' : 'no'}`, target: '0 / 0; yes', pass: one.failed + three.failed === 0 && stored },
  ];
}

export function multiFloodRows(r: MultiFloodResult, deals: number, scale: TimeScale, ledgerRows: (l: Ledger) => Row[]): Row[] {
  const over = r.elapsedMs / r.minimumMs - 1;
  return [
    { section: `Several relays: ${deals.toLocaleString('en-US')} deals at once through 3 relays on one PostgreSQL behind one address (${describeScale(scale)})` },
    ...ledgerRows(r.ledger),
    { name: '429 answers received (Zoho / Kommo)', value: `${r.zoho429} / ${r.kommo429}`, target: '0', pass: r.zoho429 + r.kommo429 === 0 },
    {
      name: 'total time / least the Zoho limit allows',
      value: `${secs(r.elapsedMs)} / ${secs(r.minimumMs)} (${over >= 0 ? '+' : ''}${(over * 100).toFixed(1)} %)`,
      target: `within ${MULTI_TARGET.floodOverMinimum * 100} %`,
      pass: over <= MULTI_TARGET.floodOverMinimum,
    },
    { name: 'status webhooks taken in by each relay', value: r.forwarded.join(' / ') },
    { name: 'status webhooks re-delivered (not 2xx within 2 s)', value: String(r.webhookRedeliveries) },
    { name: 'jobs failed / dead', value: `${r.jobs.failed} / ${r.jobs.dead}`, target: '0 / 0', pass: r.jobs.failed + r.jobs.dead === 0 },
  ];
}

export function multiLatencyRows(one: LatencyResult, three: LatencyResult): Row[] {
  const over = three.e2e.p50 / one.e2e.p50 - 1;
  return [
    { section: `Several relays: end to end (stage move -> Invoice URL), ${one.latencyMs} ms on every sandbox call, ${three.samples} deals one at a time, on PostgreSQL` },
    { name: 'end to end p50, 1 / 3 processes', value: `${ms(one.e2e.p50)} / ${ms(three.e2e.p50)} (${over >= 0 ? '+' : ''}${(over * 100).toFixed(1)} %)`, target: `3 within +${MULTI_TARGET.latencyOver * 100} % of 1`, pass: over <= MULTI_TARGET.latencyOver },
    { name: 'end to end p99, 1 / 3 processes', value: `${ms(one.e2e.p99)} / ${ms(three.e2e.p99)}` },
    { name: 'relay overhead per deal p50, 1 / 3 processes', value: `${ms(one.overhead.p50)} / ${ms(three.overhead.p50)}` },
  ];
}
