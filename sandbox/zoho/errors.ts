// Zoho Books answers errors as `{code, message}` with a 4xx status; `code: 0` means success.
// Codes marked "reference" come from /work/shared/reference/zoho-books.md or the brief; the others are
// not documented anywhere we trust, so the fake picks one and sticks to it. Clients must classify errors
// by HTTP status first and treat the code as a detail, which is what these choices assume.

export const ZohoCode = {
  success: 0,
  /** Invalid or missing field value (Zoho: "Invalid value passed for …"). */
  invalidValue: 4,
  /** Unknown route (Zoho: "Invalid URL Passed"). */
  invalidUrl: 5,
  /** Over the per-organization request limit (brief). */
  rateLimited: 45,
  /** Missing, unknown or expired access token, or a scope that does not cover the call (reference). */
  notAuthorized: 57,
  /** Duplicate invoice number (reference: code 1001 in Zoho Invoice). */
  invoiceNumberExists: 1001,
  /** A record that does not exist in this organization. */
  notFound: 1002,
  /** The body is not JSON (Zoho: "JSON is not well formed"). */
  malformedJson: 1038,
  /** Duplicate contact name in the organization (brief). */
  contactNameExists: 3062,
  /** Changing the currency of a contact that already has transactions (reference; code chosen). */
  contactCurrencyLocked: 3063,
  /** Duplicate recurrence_name (code chosen). */
  recurrenceNameExists: 3064,
  /** A value already used on another record for a custom field set to reject duplicates (code chosen). */
  customFieldValueExists: 3065,
  /** Deleting or shrinking an invoice that has payments (code chosen). */
  invoiceHasPayments: 3066,
  /** organization_id missing or not an organization of this user (code chosen). */
  organizationInvalid: 6041,
  /** Simulated server faults (FaultInjector) (code chosen). */
  internal: 9999,
} as const;

export class ZohoError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export const invalidValue = (message: string) => new ZohoError(400, ZohoCode.invalidValue, message);
export const notFound = (what: string) => new ZohoError(404, ZohoCode.notFound, `${what} does not exist.`);

export function errorBody(code: number, message: string) {
  return { code, message };
}
