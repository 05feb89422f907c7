// Where the live Xero API differs from Xero's published OpenAPI documents (contract/xero/*.json), or says
// something the documents do not. This is the ONE place such differences live: src/accounting/xero/types.ts
// applies the types below to the generated ones, and a validator of Xero traffic applies
// XERO_SCHEMA_OVERRIDES to the documents before it checks requests and responses. Each entry names the
// difference and how we know it; "unconfirmed" means no primary source was found. Anything not listed here
// is taken from the documents as published.

type JsonSchema = Record<string, unknown>;

export interface XeroSchemaOverride {
  /** The component schema patched (contract/xero/<document>.json, #/components/schemas/<schema>). */
  document: 'accounting' | 'identity' | 'webhooks';
  schema: string;
  difference: string;
  source: string;
  patch(schema: JsonSchema): void;
}

const REFERENCE = 'shared/reference/xero.md';

export const XERO_SCHEMA_OVERRIDES: readonly XeroSchemaOverride[] = [
  {
    document: 'webhooks',
    schema: 'WebhookEvent',
    difference:
      'firstEventSequence and lastEventSequence have minimum 1, but the intent-to-receive request Xero signs and posts ' +
      'when a webhook is created carries {"events":[],"firstEventSequence":0,"lastEventSequence":0}.',
    source: `${REFERENCE}, "Webhooks" (intent to receive), developer.xero.com/documentation/webhooks/configuring-your-server`,
    patch: (s) => {
      const props = s.properties as Record<string, JsonSchema> | undefined;
      for (const name of ['firstEventSequence', 'lastEventSequence']) if (props?.[name]) props[name].minimum = 0;
    },
  },
  {
    document: 'accounting',
    schema: 'RepeatingInvoice',
    difference:
      'With summarizeErrors=false every element of a PUT/POST answer reports StatusAttributeString (OK|WARNING|ERROR) ' +
      'and ValidationErrors; the document gives Invoice and Contact these properties but not RepeatingInvoice ' +
      '(unconfirmed for repeating invoices: assumed to follow the same rule as the other batch endpoints).',
    source: `${REFERENCE}, "Invoices" (?summarizeErrors=false)`,
    patch: (s) => {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      props.StatusAttributeString = { type: 'string' };
      props.ValidationErrors = { type: 'array', items: { $ref: '#/components/schemas/ValidationError' } };
      s.properties = props;
    },
  },
];

/**
 * Differences that are not schema properties, kept here so they are written down once:
 * - Dates in answers (Date, DueDate, UpdatedDateUTC, FullyPaidOnDate, the envelope's DateTimeUTC) are
 *   typed `string`; live they are Microsoft JSON dates, `/Date(1552262400000+0000)/` (parsed by
 *   parseXeroDate in src/accounting/xero/dates.ts). Requests send `YYYY-MM-DD`. Source: the reference, "Limits and formats".
 * - The token endpoint (POST https://identity.xero.com/connect/token) is not in xero-identity.yaml: its
 *   answer is XeroTokenAnswer below. Source: the reference, "OAuth 2.0" (xero-node).
 * - GET /Connections is documented with a capital C; Xero serves and its SDKs call `/connections`.
 *   Source: the reference, "OAuth 2.0" (`GET https://api.xero.com/connections`).
 * - Rate-limit answers: 429 with `Retry-After` (seconds) and `X-Rate-Limit-Problem` (minute|day|concurrent,
 *   unconfirmed); every answer carries `X-DayLimit-Remaining` and `X-MinLimit-Remaining`. Not in the document.
 *   Source: the reference, "Limits and formats".
 * - A 404 answer's body is plain text, not JSON. Source: the reference, "Limits and formats" (xero-node#209).
 * - A token without the scope an operation's security names is answered 401 with `{"Type":null,"Title":
 *   "Unauthorized","Status":401,"Detail":"AuthorizationUnsuccessful"}` (XeroAPI/Xero-NetStandard#298,
 *   XeroAPI/xero-ruby-oauth2-app#82; the document lists only the 200). `paymentservices` (the security of
 *   /BrandingThemes/{BrandingThemeID}/PaymentServices) is a restricted scope: an app Xero has not allowed to
 *   use it is refused the consent (`unauthorized_client`, "Invalid scope for client": XeroAPI/xero-python-oauth2-app#14).
 * - A wrong or disconnected xero-tenant-id is answered 403 with `{"Type":null,"Title":"Forbidden",
 *   "Detail":"AuthenticationUnsuccessful"}` (unconfirmed: seen in clients). Source: the reference, "OAuth 2.0".
 */
export interface XeroTokenAnswer {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  token_type?: string;
  id_token?: string;
  scope?: string;
  /** On refusal: `invalid_grant`, `invalid_client`, `unauthorized_client`, `invalid_scope`… */
  error?: string;
  error_description?: string;
}

/** See the 403 above. */
export interface XeroProblemAnswer {
  Type?: string | null;
  Title?: string;
  Detail?: string;
  Status?: number;
}

/** See `RepeatingInvoice` above: the element status the summarizeErrors=false answer carries. */
export interface LiveElementStatus {
  StatusAttributeString?: string;
  ValidationErrors?: Array<{ Message?: string }>;
}

/** Adds live properties to a generated type; a property the type already documents cannot be "added". */
export type LiveAdds<T, A extends { [K in keyof A]: K extends keyof T ? never : unknown }> = T & A;
