// Which Kommo webhook items call for the issue 18 jobs, from a real wire body through the parser: "Closed - lost"
// (143, any pipeline) is the lost-deal job's when invoice.onLost is set — ahead of a retainer stop stage — and
// nobody's otherwise; with invoice.review an approval stage calls for the review job, and a change (`update`) of a
// deal in an invoicing or approval stage too, under a key of its own so it never swallows the stage item. Also
// how a deal's change is told in a note.
import { describe, expect, it } from 'vitest';
import type { ResolvedMapping, ResolvedStage } from '../../src/config/resolve-mapping.js';
import { kommoInboxItems, LOST_JOB, RETAINER_JOB, REVIEW_JOB, stageTriggers, INVOICE_JOB } from '../../src/intake/triggers.js';
import { parseKommoWebhook } from '../../src/intake/kommo-parse.js';
import { basisChange, dealBasis } from '../../src/sync/invoice-review.js';

const P = 7710021;
const stage = (statusId: number, pipelineId = P): ResolvedStage => ({ pipelineId, statusId, label: `Sales / ${statusId}` });
const INVOICE = 61234570;
const APPROVED = 61234571;
const ACTIVE = 61234580;

const wire = (pairs: Array<[string, string]>) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
const item = (action: string, i: number, id: number, statusId: number, modified: number): Array<[string, string]> => [
  [`leads[${action}][${i}][id]`, String(id)],
  [`leads[${action}][${i}][status_id]`, String(statusId)],
  [`leads[${action}][${i}][pipeline_id]`, String(P)],
  [`leads[${action}][${i}][last_modified]`, String(modified)],
];
const hook = (...items: Array<Array<[string, string]>>) => parseKommoWebhook(wire([...items.flat(), ['account[subdomain]', 'acme'], ['account[id]', '30011223']]));

type Mapping = Pick<ResolvedMapping, 'invoiceStages' | 'retainer' | 'onLost' | 'review'>;
const base: Mapping = { invoiceStages: [stage(INVOICE)] };
const retainer = { startStages: [stage(ACTIVE)], stopStages: [stage(143)], frequency: 'months', every: 1, recurringIdField: { id: 1, name: 'R', type: 'text' }, nameTemplate: 'Kommo deal {deal_id}', moveOnPayment: false } as ResolvedMapping['retainer'];

const jobs = (m: Mapping, h: ReturnType<typeof hook>) => kommoInboxItems(h, stageTriggers(m)).items.map((i) => [i.job!.kind, i.dealId, i.dedupKey]);

describe('issue 18 triggers', () => {
  it('without the options, a lost deal and a deal change call for nothing (as before); 143 stays a retainer stop stage', () => {
    const h = hook(item('status', 0, 1, 143, 100), item('update', 0, 2, INVOICE, 101));
    expect(jobs(base, h)).toEqual([]);
    expect(jobs({ ...base, retainer }, h)).toEqual([[RETAINER_JOB, '1', `kommo:lead:1:in-stage:${P}:143:100`]]);
  });

  it('invoice.onLost: Closed - lost in any pipeline is the lost-deal job, ahead of the retainer stop stage', () => {
    const onLost = { action: 'note' as const, stages: [stage(143), stage(143, 999)] };
    expect(jobs({ ...base, retainer, onLost }, hook(item('status', 0, 1, 143, 100)))).toEqual([[LOST_JOB, '1', `kommo:lead:1:in-stage:${P}:143:100`]]);
    // An update of a lost deal is no reason to act again.
    expect(jobs({ ...base, onLost }, hook(item('update', 0, 1, 143, 101)))).toEqual([]);
  });

  it('invoice.review: the approval stage, and a change of a deal in an invoicing or approval stage, call for the review job', () => {
    const review = { approvalStages: [stage(APPROVED)] };
    const h = hook(item('status', 0, 1, INVOICE, 100), item('update', 0, 1, INVOICE, 100), item('status', 1, 2, APPROVED, 200), item('update', 1, 3, ACTIVE, 300));
    expect(jobs({ ...base, review }, h)).toEqual([
      [INVOICE_JOB, '1', `kommo:lead:1:in-stage:${P}:${INVOICE}:100`],
      [REVIEW_JOB, '2', `kommo:lead:2:in-stage:${P}:${APPROVED}:200`],
      // Same deal, same version as the stage item: a key of its own, so the stage item still makes the invoice.
      [REVIEW_JOB, '1', 'kommo:lead:1:changed:100'],
    ]);
    // Review without approval stages: changes only.
    expect(jobs({ ...base, review: { approvalStages: [] } }, hook(item('status', 0, 2, APPROVED, 200), item('update', 0, 1, INVOICE, 101)))).toEqual([[REVIEW_JOB, '1', 'kommo:lead:1:changed:101']]);
  });

  it("a deal's change in words: the amount, and products added, removed or changed; products in any order are the same", () => {
    const before = dealBasis({ price: 1000, products: [{ id: 5, quantity: 1 }, { id: 3, quantity: 2 }] });
    expect(dealBasis({ price: 1000, products: [{ id: 3, quantity: 2 }, { id: 5, quantity: 1 }] })).toEqual(before);
    const after = dealBasis({ price: 1500, products: [{ id: 3, quantity: 4 }, { id: 9, quantity: 1 }] });
    expect(basisChange(before, after, 'EUR')).toBe('amount 1,000.00 EUR → 1,500.00 EUR; products 1 added, 1 removed, 1 changed');
    expect(basisChange(before, { ...before, price: null }, 'JPY')).toBe('amount 1,000 JPY → none');
  });
});
