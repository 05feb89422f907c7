// Xero's `where` filters are expressions (`EmailAddress=="a@b.com"`), so a value is code, not data: only
// values that cannot end their string literal are put in one, and GUIDs are checked before they are.
import { permanent } from '../../errors.js';

const MAX_VALUE = 255;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `Field=="value"`; a value holding `"`, `\` or a control character cannot be searched for safely. */
export function whereEquals(field: string, value: string): string {
  if (value === '' || value.length > MAX_VALUE || /["\\\u0000-\u001f\u007f]/.test(value)) {
    throw permanent(
      'xero_unsearchable_value',
      `Cannot search Xero for ${field} ${JSON.stringify(value.slice(0, 80))}: it is empty, longer than ${MAX_VALUE} characters, or holds a quote, backslash or control character.`,
      { service: 'xero' },
    );
  }
  return `${field}=="${value}"`;
}

/** `Field=guid("…")` for a GUID-valued field such as Invoice.InvoiceID. */
export function whereGuid(field: string, id: string): string {
  return `${field}=guid("${assertGuid(id, field)}")`;
}

export function assertGuid(id: string, what = 'ID'): string {
  if (!GUID.test(id)) throw permanent('xero_bad_id', `${what} ${JSON.stringify(id.slice(0, 80))} is not a Xero ID (a GUID).`, { service: 'xero' });
  return id;
}

/** Emails compared as Xero users type them: case and spaces ignored. */
export const sameEmail = (a: string | undefined, b: string): boolean => a !== undefined && normalEmail(a) === normalEmail(b);
export const normalEmail = (email: string): string => email.replace(/\s+/g, '').toLowerCase();
