// The parts of Zoho Books API v3 bodies the relay uses (shared/zoho-books-oas). IDs are strings, always.

export interface ZohoEnvelope {
  code: number;
  message?: string;
}

export interface ZohoContactPerson {
  contact_person_id?: string;
  first_name?: string;
  last_name?: string;
  email?: string;
  phone?: string;
  is_primary_contact?: boolean;
}

export interface ZohoContact {
  contact_id: string;
  contact_name: string;
  company_name?: string;
  email?: string;
  currency_id?: string;
  currency_code?: string;
  contact_persons?: ZohoContactPerson[];
}

export interface ZohoLineItem {
  item_id?: string;
  name?: string;
  description?: string;
  rate: number;
  quantity: number;
  tax_id?: string;
  discount?: number | string;
}

export interface ZohoCustomField {
  api_name?: string;
  customfield_id?: string;
  value: string | number;
}

export interface ZohoInvoice {
  invoice_id: string;
  invoice_number: string;
  status: string;
  customer_id: string;
  reference_number?: string;
  total?: number;
  balance?: number;
  currency_code?: string;
  invoice_url?: string;
  last_modified_time?: string;
  recurring_invoice_id?: string;
  custom_fields?: Array<{ api_name?: string; value?: unknown }>;
}

export interface ZohoTax {
  tax_id: string;
  tax_name: string;
  tax_percentage: number;
  tax_type?: string;
  is_default_tax?: boolean;
}

export interface ZohoCurrency {
  currency_id: string;
  currency_code: string;
  price_precision?: number;
  is_base_currency?: boolean;
  exchange_rate?: number;
}

export interface ZohoOrganization {
  organization_id: string;
  name: string;
  currency_code?: string;
  country?: string;
}

export interface ZohoPayment {
  payment_id: string;
  amount: number;
  date: string;
  payment_mode?: string;
  reference_number?: string;
}

export interface ZohoItem {
  item_id: string;
  name: string;
  sku?: string;
  rate?: number;
}

export interface ZohoTaxExemption {
  tax_exemption_id: string;
  tax_exemption_code?: string;
  description?: string;
  type?: string;
}

export interface ZohoRecurringInvoice {
  recurrence_id: string;
  recurrence_name: string;
  status: string;
  customer_id?: string;
}
