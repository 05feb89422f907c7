// Payment to deal against in-memory ports and a real SQLite store, including a note whose answer is lost.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedMapping } from '../../src/config/resolve-mapping.js';
import { RelayError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { DealNotes, InvoiceLinks } from '../../src/store/payment-records.js';
import { NoteOnce } from '../../src/sync/deal-notes.js';
import { PaymentToDeal } from '../../src/sync/payment-to-deal.js';
import { DealWriter } from '../../src/sync/deal-writer.js';
import { DealWrites } from '../../src/store/deal-write-records.js';
import type { ResolvedPaidField } from '../../src/config/resolve-paid-field.js';
import { InvoiceOwners } from '../../src/sync/invoice-owner.js';
import { MemoryAccounting, MemoryCrm, sampleDeal } from '../support/doubles.js';
import { tempStore } from '../support/tmp.js';

const log = createLogger({ level: 'silent' });
const mapping: Pick<ResolvedMapping, 'payment'> = {
  payment: { stages: [{ pipelineId: 7710021, statusId: 61234599, label: 'Sales / Payment Received' }], paidField: { id: 905, name: 'Paid', type: 'checkbox' } },
};

describe('payment to deal', () => {
  let store: Awaited<ReturnType<typeof tempStore>>;
  let crm: MemoryCrm;
  let accounting: MemoryAccounting;
  let useCase: PaymentToDeal;
  let invoiceId: string;

  beforeEach(async () => {
    store = await tempStore();
    crm = new MemoryCrm();
    accounting = new MemoryAccounting();
    crm.deals.set(31700125, sampleDeal());
    const customer = await accounting.createCustomer({ name: 'A', email: 'a@example.com' });
    invoiceId = (await accounting.createInvoice({ customerId: customer.id, stamp: accounting.stamp(31700125, 1), lines: [{ name: 'x', rate: 1000, quantity: 1 }] }, { send: true })).id;
    useCase = new PaymentToDeal({ crm, accounting, links: new InvoiceLinks(store.db), owners: new InvoiceOwners(store.db), notes: new NoteOnce(crm, new DealNotes(store.db)), writer: new DealWriter(crm, new DealWrites(store.db)), mapping });
  });
  afterEach(async () => store.cleanup());
  const run = () => useCase.run(invoiceId, { log });

  it('finds the deal by reference number, notes and moves once however often it runs', async () => {
    accounting.pay(invoiceId, 1000);
    expect(await run()).toEqual({ outcome: 'noted', dealId: 31700125, notesAdded: 1, paid: true, moved: true });
    expect(await run()).toEqual({ outcome: 'noted', dealId: 31700125, notesAdded: 0, paid: true, moved: false });
    expect(crm.notes).toHaveLength(1);
    expect(crm.moves).toEqual([{ dealId: 31700125, pipelineId: 7710021, statusId: 61234599 }]);
    expect(crm.fieldWrites.at(-1)?.values).toEqual([{ fieldId: 905, value: true }]);
  });

  it('a note whose answer was lost is not added again', async () => {
    accounting.pay(invoiceId, 400);
    crm.faults.failOnce('addDealNote', 'after');
    await expect(run()).rejects.toBeInstanceOf(RelayError);
    expect(crm.notes).toHaveLength(1);
    await run();
    expect(crm.notes).toHaveLength(1);
    expect(crm.notes[0]!.text).toContain('600.00 EUR still due');
  });

  it('a note refused outright is added on the next attempt without reading the notes', async () => {
    accounting.pay(invoiceId, 400);
    crm.faults.failOnce('addDealNote', 'before');
    await expect(run()).rejects.toBeInstanceOf(RelayError);
    const calls = crm.calls;
    await run();
    expect(crm.notes).toHaveLength(1);
    expect(crm.calls - calls).toBe(1);
  });

  it('a deal in a pipeline without the paid stage: a permanent error that says what to add', async () => {
    crm.deals.set(31700125, sampleDeal({ pipelineId: 999 }));
    accounting.pay(invoiceId, 1000);
    const err = (await run().catch((e: unknown) => e)) as RelayError;
    expect(err.code).toBe('deal_write_refused');
    expect(err.message).toContain("its pipeline (999) has no stage named in the mapping's payment.stage (Sales / Payment Received)");
    // The move could not be made; the paid field still was, and the note.
    expect(crm.moves).toEqual([]);
    expect(crm.fieldWrites.map((w) => w.values)).toEqual([[{ fieldId: 905, value: true }]]);
    expect(crm.notes).toHaveLength(1);
  });

  it('an invoice with no deal reference is not ours: no Kommo call', async () => {
    const other = (await accounting.createInvoice({ customerId: 'c', stamp: { key: 'PO-1', dealId: 1 }, lines: [{ name: 'x', rate: 1, quantity: 1 }] }, { send: false })).id;
    const before = crm.calls;
    expect(await useCase.run(other, { log })).toEqual({ outcome: 'not_ours', invoiceId: other });
    expect(crm.calls).toBe(before);
  });

  describe('the paid field, the stage move and the notes are separate steps', () => {
    const select = { id: 906, name: 'Payment status', type: 'select', option: { id: 7001, name: 'Paid' }, partialOption: { id: 7002, name: 'Partially paid' } };
    const withPaidField = (paidField: ResolvedPaidField) => {
      const writes = new DealWrites(store.db);
      useCase = new PaymentToDeal({ ...deps(), writer: new DealWriter(crm, writes), mapping: { ...mapping, payment: { ...mapping.payment, paidField } } });
      return writes;
    };
    const deps = () => ({ crm, accounting, links: new InvoiceLinks(store.db), owners: new InvoiceOwners(store.db), notes: new NoteOnce(crm, new DealNotes(store.db)) });

    it('Kommo refuses the paid field: the deal is still moved and noted, the refusal kept with its reason; once Kommo takes it, a retry writes only the field', async () => {
      const writes = withPaidField(select);
      crm.refusedFields.add(906);
      accounting.pay(invoiceId, 1000);
      const err = (await run().catch((e: unknown) => e)) as RelayError;
      expect(err).toMatchObject({ code: 'deal_write_refused', kind: 'permanent' });
      expect(err.message).toContain(`paid field 'Payment status' = "Paid": Kommo rejected PATCH /leads (400 Bad Request; custom_fields_values.0.values.0.enum_id: The value you selected is not a valid choice.)`);
      expect(crm.moves).toEqual([{ dealId: 31700125, pipelineId: 7710021, statusId: 61234599 }]);
      expect(crm.notes).toHaveLength(1);
      const rows = await writes.forDeal('31700125');
      expect(rows.map((r) => [r.write_key, r.kind, r.state])).toEqual([
        [`paid_field:${invoiceId}:full`, 'paid_field', 'refused'],
        [`paid_stage:${invoiceId}`, 'paid_stage', 'done'],
      ]);

      // Another event about the invoice with nothing new: the refusal stands, reported again without a call.
      const calls = crm.calls;
      const again = (await run().catch((e: unknown) => e)) as RelayError;
      expect(again).toMatchObject({ code: 'deal_write_refused', kind: 'permanent' });
      expect(again.message).toContain('The value you selected is not a valid choice.');
      expect(crm.calls - calls).toBe(0); // the invoice is read; Kommo is not asked anything
      expect((await writes.forDeal('31700125')).map((r) => [r.state, r.attempts])).toEqual([
        ['refused', 1],
        ['done', 1],
      ]);

      // An operator's retry, once Kommo takes it: the field only.
      crm.refusedFields.clear();
      const movesBefore = crm.moves.length;
      expect(await useCase.run(invoiceId, { log, retried: true })).toMatchObject({ outcome: 'noted', paid: true, moved: false, notesAdded: 0 });
      expect(crm.moves).toHaveLength(movesBefore);
      expect(crm.fieldWrites.at(-1)!.values).toEqual([{ fieldId: 906, value: { enumId: 7001 } }]);
      expect((await writes.forDeal('31700125')).map((r) => r.state)).toEqual(['done', 'done']);
    });

    it('a refused field is tried again when something changed: a payment new to the deal, or the write itself (the mapping names another option)', async () => {
      const writes = withPaidField(select);
      crm.refusedFields.add(906);
      accounting.pay(invoiceId, 600);
      await run().catch(() => undefined); // partial: the partial option refused
      await run().catch(() => undefined); // nothing new: not sent
      const attempts = async () => (await writes.forDeal('31700125')).map((r) => [r.write_key.replace(invoiceId, 'I'), r.state, r.attempts]);
      expect(await attempts()).toEqual([['paid_field:I:partial:600', 'refused', 1]]);

      // The mapping now names another option for the partial state (a restart resolved it): another write, sent.
      withPaidField({ ...select, partialOption: { id: 7003, name: 'Part paid' } });
      await run().catch(() => undefined);
      expect(await attempts()).toEqual([['paid_field:I:partial:600', 'refused', 2]]);

      // The rest is paid: a new payment, and with it the full state's steps.
      crm.refusedFields.clear();
      accounting.pay(invoiceId, 400);
      expect(await run()).toMatchObject({ outcome: 'noted', paid: true, moved: true, notesAdded: 1 });
      expect(await attempts()).toEqual([
        ['paid_field:I:partial:600', 'refused', 2],
        ['paid_field:I:full', 'done', 1],
        ['paid_stage:I', 'done', 1],
      ]);
    });

    it('a note that fails retryably is retried alone: the field and the move are made once', async () => {
      withPaidField(select);
      accounting.pay(invoiceId, 1000);
      crm.faults.failOnce('addDealNote', 'before');
      const err = (await run().catch((e: unknown) => e)) as RelayError;
      expect(err.retryable).toBe(true);
      expect(crm.notes).toHaveLength(0);
      expect(crm.moves).toHaveLength(1);
      await run();
      expect(crm.notes).toHaveLength(1);
      expect(crm.moves).toHaveLength(1);
      expect(crm.fieldWrites.map((w) => w.values)).toEqual([[{ fieldId: 906, value: { enumId: 7001 } }]]);
    });

    it("a select's partial option after a partial payment, its paid option and the move after the full one", async () => {
      withPaidField(select);
      accounting.pay(invoiceId, 400);
      expect(await run()).toMatchObject({ paid: false, moved: false });
      expect(crm.fieldWrites.map((w) => w.values)).toEqual([[{ fieldId: 906, value: { enumId: 7002 } }]]);
      accounting.pay(invoiceId, 600);
      expect(await run()).toMatchObject({ paid: true, moved: true });
      expect(crm.fieldWrites.at(-1)!.values).toEqual([{ fieldId: 906, value: { enumId: 7001 } }]);
      expect(crm.moves).toHaveLength(1);
    });

    it('a numeric field holds the amount paid so far after every payment', async () => {
      withPaidField({ id: 907, name: 'Amount paid', type: 'numeric' });
      accounting.pay(invoiceId, 400.25);
      await run();
      accounting.pay(invoiceId, 599.75);
      await run();
      expect(crm.fieldWrites.map((w) => w.values)).toEqual([[{ fieldId: 907, value: 400.25 }], [{ fieldId: 907, value: 1000 }]]);
    });

    it('an invoice marked paid before the steps were recorded is not marked again', async () => {
      withPaidField(select);
      accounting.pay(invoiceId, 1000);
      await new InvoiceLinks(store.db).upsert(invoiceId, '31700125', { paidAt: Date.now() - 60_000 });
      expect(await run()).toMatchObject({ paid: true, moved: false });
      expect(crm.moves).toEqual([]);
      expect(crm.fieldWrites).toEqual([]);
    });
  });
});
