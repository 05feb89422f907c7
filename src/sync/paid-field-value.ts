// What goes into the mapping's paid field (payment.paidField), by the field's Kommo type. Pure.
// Dates: an accounting payment date is a calendar day with no time. Kommo's reference leaves open whether date
// values are written as Unix seconds or RFC 3339; Kommo's own PHP SDK (amocrm-api-php,
// DateCustomFieldValueModel::toApi) sends RFC 3339, so the relay does too. The time is noon UTC, which is
// the same calendar day in every account time zone from UTC-11 to UTC+11, so the date Kommo shows is the
// payment date whatever the account's time zone (midnight UTC would show the day before west of Greenwich).
import type { ResolvedPaidField } from '../config/resolve-paid-field.js';
import type { FieldValue } from './ports.js';

export interface PaidState {
  /** 'full': the invoice is paid; 'partial': paid in part, a balance is still due. */
  state: 'full' | 'partial';
  /** The latest payment's date, YYYY-MM-DD. */
  date: string;
  /** Paid so far, in the invoice currency. */
  amountPaid: number;
}

/** undefined: nothing to write for this state (e.g. a checkbox after a partial payment). */
export function paidFieldValue(field: ResolvedPaidField, paid: PaidState): FieldValue | undefined {
  const full = paid.state === 'full';
  switch (field.type) {
    case 'checkbox':
      return full ? true : undefined;
    case 'date':
    case 'date_time':
      return full ? `${paid.date}T12:00:00+00:00` : undefined;
    case 'text':
    case 'textarea':
      return full ? `Paid ${paid.date}` : undefined;
    case 'numeric':
      return paid.amountPaid;
    case 'select':
    case 'radiobutton': {
      const option = full ? field.option : field.partialOption;
      return option ? { enumId: option.id } : undefined;
    }
    default:
      // A type start-up refuses; only a resolution cached by an older relay could carry one.
      return undefined;
  }
}

/** "paid field 'Payment status' = 'paid'", for the records a person reads. */
export function describePaidFieldWrite(field: ResolvedPaidField, value: FieldValue): string {
  const shown = typeof value === 'object' ? [field.option, field.partialOption].find((o) => o?.id === value.enumId)?.name ?? `option ${value.enumId}` : String(value);
  return `paid field '${field.name}' = ${JSON.stringify(shown)}`;
}
