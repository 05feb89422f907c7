// Every GraphQL document the relay sends to Wave, as constants with the types of their variables and
// results (written by hand from contract/wave/schema.graphql; test/unit/wave-documents.test.ts validates each
// against it with graphql-js, deprecated fields included). No fragment is shared between documents, so each
// reads as one request in Wave's logs, and each asks only for what the relay reads.

/** A document with the types of its variables and its `data`; `name` is its operation name, for messages. */
export interface WaveDocument<Vars, Data> {
  readonly name: string;
  readonly kind: 'query' | 'mutation';
  readonly text: string;
  /** Phantom: never set, carries the types. */
  readonly _types?: { vars: Vars; data: Data };
}

function doc<Vars, Data>(text: string): WaveDocument<Vars, Data> {
  const match = /^\s*(query|mutation)\s+([A-Za-z0-9_]+)/.exec(text);
  if (!match) throw new Error('a Wave document must start with a named query or mutation');
  return { kind: match[1] as 'query' | 'mutation', name: match[2]!, text: text.trim() };
}

export interface PageInfo {
  currentPage: number;
  totalPages: number | null;
  totalCount: number | null;
}
type Page<N> = { pageInfo: PageInfo; edges: Array<{ node: N | null }> } | null;
export interface Money {
  value: string;
  currency: { code: string };
}
export interface InputError {
  path: string[] | null;
  message: string | null;
  code: string | null;
}
interface MutationOutput {
  didSucceed: boolean;
  inputErrors: InputError[] | null;
}

// ---- Businesses ----

export interface WaveBusiness {
  id: string;
  name: string;
  isClassicInvoicing: boolean;
  emailSendEnabled: boolean;
  isArchived: boolean;
  currency: { code: string; exponent: number };
}

export const BUSINESSES = doc<{ page: number; pageSize: number }, { businesses: Page<WaveBusiness> }>(`
query Businesses($page: Int!, $pageSize: Int!) {
  businesses(page: $page, pageSize: $pageSize) {
    pageInfo { currentPage totalPages totalCount }
    edges { node { id name isClassicInvoicing emailSendEnabled isArchived currency { code exponent } } }
  }
}`);

export const BUSINESS = doc<{ businessId: string }, { business: WaveBusiness | null }>(`
query Business($businessId: ID!) {
  business(id: $businessId) { id name isClassicInvoicing emailSendEnabled isArchived currency { code exponent } }
}`);

// ---- Reference data ----

export interface WaveSalesTax {
  id: string;
  name: string;
  abbreviation: string;
  rate: string;
  isArchived: boolean;
}

export const SALES_TAXES = doc<{ businessId: string; page: number; pageSize: number }, { business: { salesTaxes: Page<WaveSalesTax> } | null }>(`
query SalesTaxes($businessId: ID!, $page: Int!, $pageSize: Int!) {
  business(id: $businessId) {
    salesTaxes(page: $page, pageSize: $pageSize, isArchived: false) {
      pageInfo { currentPage totalPages totalCount }
      edges { node { id name abbreviation rate isArchived } }
    }
  }
}`);

export interface WaveAccount {
  id: string;
  name: string;
  isArchived: boolean;
  subtype: { value: string };
}

export const INCOME_ACCOUNTS = doc<{ businessId: string; page: number; pageSize: number }, { business: { accounts: Page<WaveAccount> } | null }>(`
query IncomeAccounts($businessId: ID!, $page: Int!, $pageSize: Int!) {
  business(id: $businessId) {
    accounts(page: $page, pageSize: $pageSize, types: [INCOME], isArchived: false) {
      pageInfo { currentPage totalPages totalCount }
      edges { node { id name isArchived subtype { value } } }
    }
  }
}`);

export interface WaveProduct {
  id: string;
  name: string;
  unitPrice: string;
  isSold: boolean;
  isArchived: boolean;
  incomeAccount: { id: string } | null;
}

export const PRODUCTS = doc<{ businessId: string; page: number; pageSize: number }, { business: { products: Page<WaveProduct> } | null }>(`
query Products($businessId: ID!, $page: Int!, $pageSize: Int!) {
  business(id: $businessId) {
    products(page: $page, pageSize: $pageSize, isSold: true, isArchived: false, sort: [NAME_ASC]) {
      pageInfo { currentPage totalPages totalCount }
      edges { node { id name unitPrice isSold isArchived incomeAccount { id } } }
    }
  }
}`);

export interface ProductCreateInput {
  businessId: string;
  name: string;
  unitPrice: string;
  description?: string;
  incomeAccountId: string;
}

export const PRODUCT_CREATE = doc<{ input: ProductCreateInput }, { productCreate: (MutationOutput & { product: WaveProduct | null }) | null }>(`
mutation ProductCreate($input: ProductCreateInput!) {
  productCreate(input: $input) {
    didSucceed
    inputErrors { path message code }
    product { id name unitPrice isSold isArchived incomeAccount { id } }
  }
}`);

// ---- Customers ----

export interface WaveCustomer {
  id: string;
  name: string;
  email: string | null;
  isArchived: boolean | null;
  currency: { code: string } | null;
}

export const CUSTOMERS_BY_EMAIL = doc<{ businessId: string; email: string; page: number; pageSize: number }, { business: { customers: Page<WaveCustomer> } | null }>(`
query CustomersByEmail($businessId: ID!, $email: String!, $page: Int!, $pageSize: Int!) {
  business(id: $businessId) {
    customers(email: $email, page: $page, pageSize: $pageSize, sort: [CREATED_AT_ASC]) {
      pageInfo { currentPage totalPages totalCount }
      edges { node { id name email isArchived currency { code } } }
    }
  }
}`);

export const CUSTOMERS = doc<{ businessId: string; page: number; pageSize: number }, { business: { customers: Page<WaveCustomer> } | null }>(`
query Customers($businessId: ID!, $page: Int!, $pageSize: Int!) {
  business(id: $businessId) {
    customers(page: $page, pageSize: $pageSize, sort: [CREATED_AT_ASC]) {
      pageInfo { currentPage totalPages totalCount }
      edges { node { id name email isArchived currency { code } } }
    }
  }
}`);

export interface CustomerCreateInput {
  businessId: string;
  name: string;
  firstName?: string;
  lastName?: string;
  email?: string;
  phone?: string;
  currency?: string;
  address?: { countryCode: string };
}

export const CUSTOMER_CREATE = doc<{ input: CustomerCreateInput }, { customerCreate: (MutationOutput & { customer: WaveCustomer | null }) | null }>(`
mutation CustomerCreate($input: CustomerCreateInput!) {
  customerCreate(input: $input) {
    didSucceed
    inputErrors { path message code }
    customer { id name email isArchived currency { code } }
  }
}`);

// ---- Invoices ----

export interface WaveInvoice {
  id: string;
  invoiceNumber: string;
  status: string;
  invoiceDate: string;
  viewUrl: string;
  modifiedAt: string;
  lastSentAt: string | null;
  total: Money;
  amountDue: Money;
  amountPaid: Money;
  customer: { id: string };
}

const INVOICE_FIELDS = 'id invoiceNumber status invoiceDate viewUrl modifiedAt lastSentAt total { value currency { code } } amountDue { value currency { code } } amountPaid { value currency { code } } customer { id }';

export const INVOICE = doc<{ businessId: string; invoiceId: string }, { business: { invoice: WaveInvoice | null } | null }>(`
query Invoice($businessId: ID!, $invoiceId: ID!) {
  business(id: $businessId) {
    invoice(id: $invoiceId) { ${INVOICE_FIELDS} }
  }
}`);

export const INVOICES_BY_NUMBER = doc<{ businessId: string; invoiceNumber: string }, { business: { invoices: Page<WaveInvoice> } | null }>(`
query InvoicesByNumber($businessId: ID!, $invoiceNumber: String!) {
  business(id: $businessId) {
    invoices(invoiceNumber: $invoiceNumber, page: 1, pageSize: 20) {
      pageInfo { currentPage totalPages totalCount }
      edges { node { ${INVOICE_FIELDS} } }
    }
  }
}`);

export const INVOICES_MODIFIED = doc<{ businessId: string; modifiedAtAfter: string; page: number; pageSize: number }, { business: { invoices: Page<WaveInvoice> } | null }>(`
query InvoicesModified($businessId: ID!, $modifiedAtAfter: DateTime!, $page: Int!, $pageSize: Int!) {
  business(id: $businessId) {
    invoices(modifiedAtAfter: $modifiedAtAfter, page: $page, pageSize: $pageSize, sort: [MODIFIED_AT_ASC]) {
      pageInfo { currentPage totalPages totalCount }
      edges { node { ${INVOICE_FIELDS} } }
    }
  }
}`);

export interface WavePayment {
  id: string;
  amount: string;
  paymentDate: string;
}

export const INVOICE_PAYMENTS = doc<{ businessId: string; invoiceId: string }, { business: { invoice: { id: string; payments: WavePayment[] } | null } | null }>(`
query InvoicePayments($businessId: ID!, $invoiceId: ID!) {
  business(id: $businessId) {
    invoice(id: $invoiceId) { id payments { id amount paymentDate } }
  }
}`);

export interface InvoiceCreateInput {
  businessId: string;
  customerId: string;
  status: 'DRAFT' | 'SAVED';
  currency?: string;
  invoiceNumber: string;
  invoiceDate?: string;
  dueDate?: string;
  exchangeRate?: string;
  memo?: string;
  items: InvoiceItemInput[];
  discounts?: InvoiceDiscountInput[];
  /** Sent only with invoice.payOnline (absent: the business's default invoice settings). */
  disableCreditCardPayments?: boolean;
  disableBankPayments?: boolean;
}

export interface InvoiceItemInput {
  productId: string;
  description?: string;
  quantity: string;
  unitPrice: string;
  taxes: Array<{ salesTaxId: string }>;
}

export interface InvoiceDiscountInput {
  discountType: 'FIXED';
  name: string;
  amount: string;
}

export const INVOICE_CREATE = doc<{ input: InvoiceCreateInput }, { invoiceCreate: (MutationOutput & { invoice: WaveInvoice | null }) | null }>(`
mutation InvoiceCreate($input: InvoiceCreateInput!) {
  invoiceCreate(input: $input) {
    didSucceed
    inputErrors { path message code }
    invoice { ${INVOICE_FIELDS} }
  }
}`);

/** Only the fields given change (`items` replaces every line; `discounts: []` removes the discount). */
export interface InvoicePatchInput {
  id: string;
  currency?: string;
  exchangeRate?: string;
  dueDate?: string;
  items: InvoiceItemInput[];
  discounts: InvoiceDiscountInput[];
  disableCreditCardPayments?: boolean;
  disableBankPayments?: boolean;
}

export const INVOICE_PATCH = doc<{ input: InvoicePatchInput }, { invoicePatch: (MutationOutput & { invoice: WaveInvoice | null }) | null }>(`
mutation InvoicePatch($input: InvoicePatchInput!) {
  invoicePatch(input: $input) {
    didSucceed
    inputErrors { path message code }
    invoice { ${INVOICE_FIELDS} }
  }
}`);

export const INVOICE_DELETE = doc<{ input: { invoiceId: string } }, { invoiceDelete: MutationOutput | null }>(`
mutation InvoiceDelete($input: InvoiceDeleteInput!) {
  invoiceDelete(input: $input) {
    didSucceed
    inputErrors { path message code }
  }
}`);

export const INVOICE_APPROVE = doc<{ input: { invoiceId: string } }, { invoiceApprove: (MutationOutput & { invoice: WaveInvoice | null }) | null }>(`
mutation InvoiceApprove($input: InvoiceApproveInput!) {
  invoiceApprove(input: $input) {
    didSucceed
    inputErrors { path message code }
    invoice { ${INVOICE_FIELDS} }
  }
}`);

export interface InvoiceSendInput {
  invoiceId: string;
  to: string[];
  attachPDF: boolean;
}

export const INVOICE_SEND = doc<{ input: InvoiceSendInput }, { invoiceSend: MutationOutput | null }>(`
mutation InvoiceSend($input: InvoiceSendInput!) {
  invoiceSend(input: $input) {
    didSucceed
    inputErrors { path message code }
  }
}`);

/** Every document, for the test that validates them against the contract. */
export const WAVE_DOCUMENTS = {
  BUSINESSES,
  BUSINESS,
  SALES_TAXES,
  INCOME_ACCOUNTS,
  PRODUCTS,
  PRODUCT_CREATE,
  CUSTOMERS_BY_EMAIL,
  CUSTOMERS,
  CUSTOMER_CREATE,
  INVOICE,
  INVOICES_BY_NUMBER,
  INVOICES_MODIFIED,
  INVOICE_PAYMENTS,
  INVOICE_CREATE,
  INVOICE_PATCH,
  INVOICE_DELETE,
  INVOICE_APPROVE,
  INVOICE_SEND,
} as const;
