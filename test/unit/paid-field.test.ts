// payment.paidField: every accepted form resolved against Kommo field definitions, every refusal worded so
// the fix is obvious (with the field's options when one is missing), and the value written for each type.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/env.js';
import { parseMapping } from '../../src/config/mapping.js';
import { resolveMapping } from '../../src/config/resolve-mapping.js';
import type { KommoFieldDefinition, KommoPipeline } from '../../src/kommo/types.js';
import { paidFieldValue } from '../../src/sync/paid-field-value.js';
import { paidState } from '../../src/sync/payment-to-deal.js';

const pipelines: KommoPipeline[] = [{ id: 1, name: 'Sales', _embedded: { statuses: [{ id: 11, name: 'Invoice', pipeline_id: 1 }, { id: 12, name: 'Payment Received', pipeline_id: 1 }] } }];
const leadFields: KommoFieldDefinition[] = [
  { id: 900, name: 'Invoice ID', type: 'text' },
  { id: 901, name: 'Invoice URL', type: 'url' },
  { id: 902, name: 'Paid', type: 'checkbox' },
  { id: 903, name: 'Payment status', type: 'select', enums: [{ id: 7001, value: 'Unpaid' }, { id: 7002, value: 'Partially paid' }, { id: 7003, value: 'Paid' }] },
  { id: 904, name: 'Paid via', type: 'radiobutton', enums: [{ id: 7101, value: 'Yes' }, { id: 7102, value: 'No' }] },
  { id: 905, name: 'Services', type: 'multiselect', enums: [{ id: 7201, value: 'SEO' }] },
  { id: 906, name: 'Paid on', type: 'date' },
  { id: 907, name: 'Amount paid', type: 'numeric' },
];
const resolve = (paidField: unknown) =>
  resolveMapping(parseMapping({ invoice: { stages: ['Invoice'] }, dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 'Invoice URL' }, payment: { stage: 'Payment Received', paidField } }, 'mapping.json'), { pipelines, leadFields }).payment.paidField;
const problems = (paidField: unknown): string[] => {
  try {
    resolve(paidField);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

describe('payment.paidField at start-up', () => {
  it.each([
    ['"Paid" (a checkbox)', 'Paid', { id: 902, name: 'Paid', type: 'checkbox' }],
    ['an ID (a date field)', 906, { id: 906, name: 'Paid on', type: 'date' }],
    ['{ field } of a numeric field', { field: 'amount paid' }, { id: 907, name: 'Amount paid', type: 'numeric' }],
    ['a select option by name, any case', { field: 'Payment status', value: 'paid' }, { id: 903, name: 'Payment status', type: 'select', option: { id: 7003, name: 'Paid' } }],
    [
      'a select option and a partial option, one by ID',
      { field: 903, value: 'Paid', partialValue: 7002 },
      { id: 903, name: 'Payment status', type: 'select', option: { id: 7003, name: 'Paid' }, partialOption: { id: 7002, name: 'Partially paid' } },
    ],
    ['a radio option', { field: 'Paid via', value: 'Yes' }, { id: 904, name: 'Paid via', type: 'radiobutton', option: { id: 7101, name: 'Yes' } }],
  ])('%s', (_name, ref, expected) => {
    expect(resolve(ref)).toEqual(expected);
  });

  const options = "Options: 'Unpaid' (7001), 'Partially paid' (7002), 'Paid' (7003)";
  it.each([
    ['an option that does not exist', { field: 'Payment status', value: 'Payed' }, [`MAPPING_FILE payment.paidField.value: the select field 'Payment status' has no option "Payed". ${options}`]],
    ['a partial option that does not exist', { field: 'Payment status', value: 'Paid', partialValue: 'Half' }, [`MAPPING_FILE payment.paidField.partialValue: the select field 'Payment status' has no option "Half". ${options}`]],
    ['a select named without an option', 'Payment status', [`MAPPING_FILE payment.paidField: 'Payment status' (903, select) is a select field: name the option that means paid, e.g. {"field":"Payment status","value":"Paid"}. ${options}`]],
    ['an option for a checkbox', { field: 'Paid', value: 'Yes' }, [`MAPPING_FILE payment.paidField.value: "value" and "partialValue" name options of a select or radiobutton field; the checkbox field 'Paid' (902, checkbox) gets ticked. Remove them, or name a select field.`]],
    [
      'a field type the relay cannot mark paid',
      { field: 'Services', value: 'SEO' },
      [
        "MAPPING_FILE payment.paidField: the field 'Services' (905, multiselect) is of a type the relay cannot mark paid. Use a field of one of these types: checkbox (ticked), date (the payment date), date_time (the payment date), text (\"Paid <payment date>\"), textarea (\"Paid <payment date>\"), numeric (the amount paid), select (the option named in \"value\"), radiobutton (the option named in \"value\").",
      ],
    ],
    ['a field that does not exist', { field: 'Payment state', value: 'Paid' }, [expect.stringMatching(/^MAPPING_FILE payment\.paidField: no lead field "Payment state"\. Lead fields: 'Invoice ID' \(900, text\), /)]],
  ])('refused: %s', (_name, ref, expected) => {
    expect(problems(ref)).toEqual(expected);
  });

  it('the object form is strict', () => {
    expect(() => parseMapping({ invoice: { stages: ['Invoice'] }, dealFields: { invoiceId: 1, invoiceUrl: 2 }, payment: { paidField: { field: 'Paid', option: 'x' } } }, 'm')).toThrow(ConfigError);
  });
});

describe('the value written into the paid field', () => {
  const full = { state: 'full', date: '2026-11-20', amountPaid: 1000 } as const;
  const partial = { state: 'partial', date: '2026-11-19', amountPaid: 400.25 } as const;
  const select = { id: 903, name: 'Payment status', type: 'select', option: { id: 7003, name: 'Paid' }, partialOption: { id: 7002, name: 'Partially paid' } };
  it.each([
    ['checkbox', { id: 1, name: 'x', type: 'checkbox' }, true, undefined],
    ['date: the payment day at noon UTC, RFC 3339', { id: 1, name: 'x', type: 'date' }, '2026-11-20T12:00:00+00:00', undefined],
    ['date_time', { id: 1, name: 'x', type: 'date_time' }, '2026-11-20T12:00:00+00:00', undefined],
    ['text', { id: 1, name: 'x', type: 'text' }, 'Paid 2026-11-20', undefined],
    ['textarea', { id: 1, name: 'x', type: 'textarea' }, 'Paid 2026-11-20', undefined],
    ['numeric: the amount paid so far', { id: 1, name: 'x', type: 'numeric' }, 1000, 400.25],
    ['select with a partial option', select, { enumId: 7003 }, { enumId: 7002 }],
    ['select without one', { ...select, partialOption: undefined }, { enumId: 7003 }, undefined],
    ['a type resolved by an older relay (url)', { id: 1, name: 'x', type: 'url' }, undefined, undefined],
  ])('%s', (_name, field, afterFull, afterPartial) => {
    expect(paidFieldValue(field, full)).toEqual(afterFull);
    expect(paidFieldValue(field, partial)).toEqual(afterPartial);
  });

  it("full, partial or nothing yet, from the invoice's total and balance in minor units", () => {
    const pay = (amount: number, date: string) => ({ paymentId: date, amount, date });
    expect(paidState({ status: 'open', total: 1000, balance: 1000, currencyCode: 'EUR' }, [])).toBeUndefined();
    expect(paidState({ status: 'partially_paid', total: 0.3, balance: 0.1, currencyCode: 'EUR' }, [pay(0.2, '2026-11-02')])).toEqual({ state: 'partial', date: '2026-11-02', amountPaid: 0.2 });
    expect(paidState({ status: 'paid', total: 1000, balance: 0, currencyCode: 'JPY' }, [pay(600, '2026-11-03'), pay(400, '2026-11-01')])).toEqual({ state: 'full', date: '2026-11-03', amountPaid: 1000 });
  });
});
