// Where the live Zoho Books API differs from its published OpenAPI documents (contract/zoho-books/*.json).
// This is the ONE place such differences live: src/accounting/zoho/types.ts applies the types below to the generated
// ones, and the sandbox's validator (sandbox/oas) applies SCHEMA_OVERRIDES to the documents before it checks
// requests and responses. Each entry names the difference and how we know it. Anything not listed here is
// taken from the documents as published.

type JsonSchema = Record<string, unknown>;

export interface SchemaOverride {
  /** Applied to the schema of every property with this name, in every document (after following its $ref). */
  property: string;
  /** Patch the array's item schema rather than the property's own. */
  items?: boolean;
  difference: string;
  source: string;
  patch(schema: JsonSchema): void;
}

/** `required: [field]` becomes "at least one of `alternatives`". */
function requireOneOf(schema: JsonSchema, field: string, alternatives: string[]): void {
  const required: unknown = schema.required;
  if (!Array.isArray(required) || !required.includes(field)) return;
  schema.required = required.filter((r) => r !== field);
  if (required.length === 1) delete schema.required;
  schema.allOf = [...(Array.isArray(schema.allOf) ? schema.allOf : []), { anyOf: alternatives.map((name) => ({ required: [name] })) }];
}

const REFERENCE = 'shared/reference/zoho-books.md';

export const SCHEMA_OVERRIDES: readonly SchemaOverride[] = [
  {
    property: 'line_items',
    items: true,
    difference: 'line_items[].item_id is marked required, but a line with name, rate and quantity and no item is accepted.',
    source: `${REFERENCE}, introduction ("Known over-strict points")`,
    patch: (s) => requireOneOf(s, 'item_id', ['item_id', 'name']),
  },
  {
    property: 'custom_fields',
    items: true,
    difference:
      'Custom fields are documented by customfield_id only (in some answers by label or index), while api_name and label ' +
      'name a field in requests and come back in answers; customfield_id is a numeric string like every Zoho ID.',
    source: `${REFERENCE}, introduction ("custom fields … api_name and label are used widely") and "Invoices" (X-Unique-Identifier-Key: cf_<api_name>)`,
    patch: (s) => {
      if (typeof s.properties !== 'object' || s.properties === null) return;
      s.properties = { ...s.properties, customfield_id: { type: 'string' }, api_name: { type: 'string' }, label: { type: 'string' } };
      requireOneOf(s, 'customfield_id', ['customfield_id', 'api_name', 'label']);
    },
  },
  {
    property: 'recurrence_frequency',
    difference: 'recurrence_frequency enumerates only "weeks"; Zoho offers days, weeks, months and years.',
    source: `${REFERENCE}, "Recurring invoices" ("recurrence_frequency (weeks, months, …)") and Zoho's recurring-invoice screen`,
    patch: (s) => {
      if (Array.isArray(s.enum) && s.enum.length === 1 && s.enum[0] === 'weeks') s.enum = ['days', 'weeks', 'months', 'years'];
    },
  },
  {
    property: 'total',
    difference: 'total is typed string but answered as a number.',
    source: 'invoices.yml itself: the example of `total` is 10000.00, a number',
    patch: (s) => numberInsteadOfString(s),
  },
  {
    property: 'balance',
    difference: 'balance is typed string but answered as a number.',
    source: 'invoices.yml itself: the example of `balance` is 40.6, a number',
    patch: (s) => numberInsteadOfString(s),
  },
  {
    property: 'page_context',
    difference: 'GET /invoices documents page_context as an array of strings; it is the same object as in every other list answer.',
    source: `${REFERENCE}, "Contacts" (page_context.has_more_page) and the list answers of contacts.yml, taxes.yml, recurring-invoices.yml`,
    patch: (s) => {
      if (s.type !== 'array') return;
      for (const key of Object.keys(s)) delete s[key];
      Object.assign(s, { type: 'object', properties: PAGE_CONTEXT });
    },
  },
];

/** Zoho IDs typed integer (customfield_id, contact_person_id, …) are numeric strings beyond 2^53. */
export const ID_OVERRIDE = {
  difference: 'Some *_id properties are typed integer (int64); Zoho IDs are numeric strings of up to 19 digits.',
  source: `${REFERENCE}, "Invoices" ("IDs are numeric STRINGS … Never turn them into numbers") and customfield_id's own example '46000000012845'`,
  /** Applied by the validator to every `<name>_id` property typed integer. */
  applies: (property: string, schema: JsonSchema) => property.endsWith('_id') && schema.type === 'integer',
  patch: (s: JsonSchema) => {
    s.type = 'string';
    delete s.format;
  },
};

function numberInsteadOfString(s: JsonSchema): void {
  if (s.type === 'string') s.type = 'number';
}

const PAGE_CONTEXT = {
  page: { type: 'integer' },
  per_page: { type: 'integer' },
  has_more_page: { type: 'boolean' },
  report_name: { type: 'string' },
  applied_filter: { type: 'string' },
  sort_column: { type: 'string' },
  sort_order: { type: 'string' },
};

// The same differences as TypeScript types, for src/accounting/zoho/types.ts.

/** See `total` and `balance` above. */
export type LiveAmount = number;

/** See `custom_fields` above. */
export interface LiveCustomField {
  customfield_id?: string;
  api_name?: string;
  label?: string;
  value?: unknown;
}

/** See `page_context` above. */
export interface LivePageContext {
  page?: number;
  per_page?: number;
  has_more_page?: boolean;
}

/** Replaces properties of a generated type with their live form; only documented properties can be replaced. */
export type Live<T, O extends { [K in keyof O]: K extends keyof T ? unknown : never }> = Omit<T, keyof O> & O;

/**
 * GET /items: Zoho publishes an items document, but it is not among those the project carries
 * (contract/zoho-books), so this answer's shape is written by hand and the sandbox cannot check it.
 */
export interface ZohoItem {
  item_id: string;
  name: string;
  sku?: string;
  rate?: number;
}
