// Where the live Xero API differs from its published OpenAPI documents (contract/xero/*.json). This is the
// ONE place such differences live for the fake Xero: the contract gate (./contract.ts) applies them to the
// documents before it checks requests and responses. Each entry names the difference and how we know it;
// anything not listed here is taken from the documents as published, so the fake answers with documented
// properties only (plus these). Move this file beside the Xero client's types when it has some.
import { isObject, type Json } from '../oas/schemas.js';

export interface XeroOverride {
  /** Component schemas (components.schemas.<name>) the patch applies to, in whichever document has them. */
  schemas: readonly string[];
  difference: string;
  source: string;
  patch(schema: Json): void;
}

const REFERENCE = 'shared/reference/xero.md';

/** Adds optional properties to an object schema. */
const addProperties = (props: Json) => (schema: Json) => {
  schema.properties = { ...(isObject(schema.properties) ? schema.properties : {}), ...props };
};

/** The answer envelopes of the accounting operations the fake serves. */
export const ENVELOPES = [
  'Accounts', 'BrandingThemes', 'Contacts', 'Currencies', 'Invoices', 'OnlineInvoices', 'Organisations', 'Payments',
  'RepeatingInvoices', 'TaxRates',
] as const;

export const XERO_OVERRIDES: readonly XeroOverride[] = [
  {
    schemas: ENVELOPES,
    difference:
      'Every accounting answer is wrapped as {Id, Status: "OK", ProviderName, DateTimeUTC: "/Date(ms)/", <Things>: […]}; ' +
      'the envelope schemas list only the collection (and Warnings, pagination).',
    source: `${REFERENCE}, "Limits and formats" (Envelope {Id, Status:"OK", DateTimeUTC, Invoices:[…]}); the examples of ` +
      'xero_accounting.yaml itself, whose every answer begins with Id, Status, ProviderName, DateTimeUTC',
    patch: addProperties({
      Id: { type: 'string', format: 'uuid' },
      Status: { type: 'string' },
      ProviderName: { type: 'string' },
      DateTimeUTC: { type: 'string' },
    }),
  },
  {
    schemas: ['Invoice'],
    difference: 'Invoices carry Date and DueDate twice: "/Date(ms+0000)/" and an ISO DateString / DueDateString.',
    source: `${REFERENCE}, "Limits and formats" ("plus ISO DateString"); the invoice examples of xero_accounting.yaml ` +
      '(DateString: 2018-10-20T00:00:00, DueDateString: 2018-12-30T00:00:00)',
    patch: addProperties({ DateString: { type: 'string' }, DueDateString: { type: 'string' } }),
  },
  {
    schemas: ['WebhookEvent'],
    difference:
      'The intent-to-receive request carries firstEventSequence and lastEventSequence 0; the document says minimum 1.',
    source: `${REFERENCE}, "Webhooks" (intent to receive: signed {"events":[],"firstEventSequence":0,"lastEventSequence":0,…}), ` +
      'citing developer.xero.com/documentation/webhooks/configuring-your-server',
    patch: (schema) => {
      const props = isObject(schema.properties) ? schema.properties : {};
      for (const name of ['firstEventSequence', 'lastEventSequence']) if (isObject(props[name])) props[name].minimum = 0;
    },
  },
];

/** Applies XERO_OVERRIDES to one document's schema root ({components, operations}). */
export function applyXeroOverrides(root: Json): void {
  const schemas = isObject(root.components) && isObject(root.components.schemas) ? root.components.schemas : {};
  for (const override of XERO_OVERRIDES) {
    for (const name of override.schemas) {
      const schema = schemas[name];
      if (isObject(schema)) override.patch(schema);
    }
  }
}
