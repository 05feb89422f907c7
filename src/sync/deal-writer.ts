// Writes to a deal as separate, recorded steps: a stage move and each field are their own step, with an
// intent record before the call (store/deal-write-records.ts). When all is well the pending steps go to
// Kommo in one PATCH; if Kommo refuses that PATCH, each step is sent alone, so the refused one is named
// with Kommo's reason and the others still land. A step that fails retryably stays pending and is tried
// again by the job's next attempt; done steps are never sent twice. Setting a stage or a field is
// idempotent, so an uncertain answer needs no look-up: the step is simply sent again.
// A step Kommo refused stays refused until something changed: the caller says so (`retryRefused`: a new
// payment, an operator's retry), or the write itself is another (its label — field, value, stage — differs
// from the refused one). Otherwise it is reported with the recorded reason, without a call: an event that
// changes nothing (another webhook about the same invoice) costs no refused PATCH.
import { permanent, RelayError, toRelayError } from '../errors.js';
import type { DealWrites } from '../store/deal-write-records.js';
import type { DealWriteKind, DealWriteState } from '../store/schema.js';
import type { CrmPort, FieldValue } from './ports.js';

export interface DealWriteStep {
  /** The write's purpose, stable across runs: `paid_field:<invoice>:full`, `paid_stage:<invoice>`, … */
  key: string;
  kind: DealWriteKind;
  label: string;
  stage?: { pipelineId: number; statusId: number };
  value?: { fieldId: number; value: FieldValue };
  /** Known to be impossible without asking Kommo (e.g. the deal's pipeline has no paid stage). */
  refusal?: string;
}

export interface Refusal {
  label: string;
  reason: string;
}

export interface WriteReport {
  /** Keys written by this run. */
  done: string[];
  refused: Refusal[];
  /** Keys left as refused by an earlier run, not sent again (nothing changed). */
  standing: string[];
  /** The first retryable failure: the job must run again for the steps it left pending. */
  retry?: RelayError;
}

export class DealWriter {
  constructor(
    private readonly crm: CrmPort,
    private readonly records: DealWrites,
  ) {}

  /** What the records say of these steps (absent: never tried). */
  async states(keys: string[]): Promise<Map<string, DealWriteState>> {
    const known = await this.records.byKey(keys);
    return new Map([...known].map(([key, row]) => [key, row.state]));
  }

  async apply(dealId: number, steps: DealWriteStep[], opts: { retryRefused?: boolean } = {}): Promise<WriteReport> {
    const report: WriteReport = { done: [], refused: [], standing: [] };
    const known = await this.records.byKey(steps.map((s) => s.key));
    const pending: DealWriteStep[] = [];
    for (const step of steps) {
      const record = known.get(step.key);
      if (record?.state === 'done') continue;
      if (record?.state === 'refused' && !opts.retryRefused && record.label === step.label) {
        report.refused.push({ label: step.label, reason: record.reason ?? 'refused earlier' });
        report.standing.push(step.key);
        continue;
      }
      pending.push(step);
    }
    if (pending.length === 0) return report;
    await this.records.begin(pending.map((s) => ({ key: s.key, dealId: String(dealId), kind: s.kind, label: s.label })));

    for (const step of pending.filter((s) => s.refusal !== undefined)) {
      await this.records.settle([step.key], 'refused', step.refusal!);
      report.refused.push({ label: step.label, reason: step.refusal! });
    }
    const callable = pending.filter((s) => s.refusal === undefined);
    if (callable.length > 1) {
      const err = await this.send(dealId, callable);
      if (!err) {
        await this.records.settle(callable.map((s) => s.key), 'done', null);
        report.done.push(...callable.map((s) => s.key));
        return report;
      }
      if (err.retryable) {
        await this.records.settle(callable.map((s) => s.key), 'pending', err.message);
        report.retry = err;
        return report;
      }
      // Refused together: send each alone to learn which one Kommo will not take.
    }
    for (const step of callable) {
      const err = await this.send(dealId, [step]);
      if (!err) {
        await this.records.settle([step.key], 'done', null);
        report.done.push(step.key);
      } else if (err.retryable) {
        await this.records.settle([step.key], 'pending', err.message);
        report.retry ??= err;
      } else {
        await this.records.settle([step.key], 'refused', err.message);
        report.refused.push({ label: step.label, reason: err.message });
      }
    }
    return report;
  }

  private async send(dealId: number, steps: DealWriteStep[]): Promise<RelayError | undefined> {
    const stage = steps.find((s) => s.stage)?.stage;
    const values = steps.flatMap((s) => (s.value ? [s.value] : []));
    try {
      if (stage) await this.crm.moveDeal(dealId, stage, values);
      else await this.crm.writeDealFields(dealId, values);
      return undefined;
    } catch (err) {
      return toRelayError(err);
    }
  }
}

export const REFUSED_WRITE = 'deal_write_refused';

/**
 * Collects what went wrong across a job's independent writes (notes, fields, stage), so that each is tried
 * before the job reports: a retryable failure first (the job runs again), else every refusal at once.
 */
export class WriteProblems {
  private retry: RelayError | undefined;
  private readonly refused: Refusal[] = [];

  add(report: WriteReport): void {
    this.retry ??= report.retry;
    this.refused.push(...report.refused);
  }

  /** A failed note: a refusal is kept, anything else is retried. */
  addError(label: string, err: unknown): void {
    const e = toRelayError(err);
    if (e.retryable) this.retry ??= e;
    else this.refused.push({ label, reason: e.message });
  }

  /** Throws what the job should end with, if anything; `done` says what did happen, for the reader. */
  throwIfAny(dealId: number, done: string): void {
    if (this.retry) throw this.retry;
    if (this.refused.length === 0) return;
    const list = this.refused.map((r) => `${r.label}: ${r.reason.replace(/\.+$/, '')}`).join(' | ');
    throw permanent(
      REFUSED_WRITE,
      `${done} ${this.refused.length === 1 ? 'One write' : `${this.refused.length} writes`} to deal ${dealId} could not be made: ${list}. Fix the field in Kommo (or the mapping, then restart the relay) and retry this job: writes already made are not repeated.`,
      { service: 'kommo' },
    );
  }
}
