// Organization settings the relay reads at start-up (currencies, taxes, items, custom fields), with the
// seeding functions tests use to set them up and the serializers for their list endpoints.
import { invalidValue } from './errors.js';
import { newId, type CustomFieldEntity, type Currency, type Item, type Organization, type Tax, type ZohoState } from './state.js';

const KNOWN_CURRENCIES: Record<string, { name: string; symbol: string; precision: number }> = {
  EUR: { name: 'Euro', symbol: '€', precision: 2 },
  USD: { name: 'United States Dollar', symbol: '$', precision: 2 },
  GBP: { name: 'Pound Sterling', symbol: '£', precision: 2 },
  INR: { name: 'Indian Rupee', symbol: '₹', precision: 2 },
  AUD: { name: 'Australian Dollar', symbol: '$', precision: 2 },
  CAD: { name: 'Canadian Dollar', symbol: '$', precision: 2 },
  CHF: { name: 'Swiss Franc', symbol: 'CHF', precision: 2 },
  JPY: { name: 'Japanese Yen', symbol: '¥', precision: 0 },
  KWD: { name: 'Kuwaiti Dinar', symbol: 'KWD', precision: 3 },
  BRL: { name: 'Brazilian Real', symbol: 'R$', precision: 2 },
  RUB: { name: 'Russian Ruble', symbol: '₽', precision: 2 },
};

export function addOrganization(
  state: ZohoState,
  o: { organizationId?: string; name: string; baseCurrency: string; country: string; paymentGateways?: string[] },
): Organization {
  const organizationId = o.organizationId ?? newId(state);
  const org: Organization = {
    organizationId,
    name: o.name,
    currencyId: '',
    currencyCode: o.baseCurrency.toUpperCase(),
    country: o.country,
    isDefault: state.organizations.size === 0,
    portalName: o.name.toLowerCase().replace(/[^a-z0-9]+/g, '') || 'org',
    // A Books organization with Stripe and PayPal set up; FakeZoho.setPaymentGateways changes it.
    paymentGateways: o.paymentGateways ?? ['stripe', 'paypal'],
  };
  state.organizations.set(organizationId, org);
  org.currencyId = addCurrency(state, organizationId, { code: org.currencyCode, isBase: true }).currencyId;
  return org;
}

export function addCurrency(
  state: ZohoState,
  organizationId: string,
  c: { code: string; precision?: number; exchangeRate?: number; isBase?: boolean },
): Currency {
  const code = c.code.toUpperCase();
  const existing = [...state.currencies.values()].find((x) => x.organizationId === organizationId && x.code === code);
  if (existing) throw new Error(`currency ${code} already exists in organization ${organizationId}`);
  const known = KNOWN_CURRENCIES[code];
  const currency: Currency = {
    organizationId,
    currencyId: newId(state),
    code,
    name: known?.name ?? code,
    symbol: known?.symbol ?? code,
    precision: c.precision ?? known?.precision ?? 2,
    isBase: c.isBase ?? false,
    exchangeRate: c.isBase ? 1 : (c.exchangeRate ?? 1),
  };
  state.currencies.set(currency.currencyId, currency);
  return currency;
}

export function addTax(
  state: ZohoState,
  organizationId: string,
  t: { name: string; percentage: number; countryCode?: string; isDefault?: boolean },
): Tax {
  const tax: Tax = {
    organizationId,
    taxId: newId(state),
    name: t.name,
    percentage: t.percentage,
    isDefault: t.isDefault ?? false,
    ...(t.countryCode ? { countryCode: t.countryCode } : {}),
  };
  state.taxes.set(tax.taxId, tax);
  return tax;
}

export function addItem(
  state: ZohoState,
  organizationId: string,
  i: { name: string; sku?: string; rate: number; description?: string },
): Item {
  const item: Item = {
    organizationId,
    itemId: newId(state),
    name: i.name,
    sku: i.sku ?? '',
    rate: i.rate,
    description: i.description ?? '',
  };
  state.items.set(item.itemId, item);
  return item;
}

export function addCustomField(
  state: ZohoState,
  organizationId: string,
  f: { entity: CustomFieldEntity; apiName?: string; label: string; unique?: boolean },
) {
  const apiName = f.apiName ?? `cf_${f.label.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '')}`;
  const def = {
    organizationId,
    customfieldId: newId(state),
    entity: f.entity,
    apiName,
    label: f.label,
    unique: f.unique ?? false,
  };
  state.customFields.set(def.customfieldId, def);
  return def;
}

/** The currency for an ID sent by a client, or a 400 as Zoho answers an unknown ID. */
export function currencyById(state: ZohoState, organizationId: string, currencyId: unknown): Currency {
  const c = typeof currencyId === 'string' ? state.currencies.get(currencyId) : undefined;
  if (!c || c.organizationId !== organizationId) throw invalidValue('Invalid value passed for currency_id');
  return c;
}

export function baseCurrency(state: ZohoState, org: Organization): Currency {
  const c = state.currencies.get(org.currencyId);
  if (!c) throw new Error(`organization ${org.organizationId} has no base currency`);
  return c;
}

export const organizationJson = (o: Organization) => ({
  organization_id: o.organizationId,
  name: o.name,
  currency_code: o.currencyCode,
  currency_id: o.currencyId,
  is_default_org: o.isDefault,
});

export const currencyJson = (c: Currency) => ({
  currency_id: c.currencyId,
  currency_code: c.code,
  currency_name: c.name,
  currency_symbol: c.symbol,
  price_precision: c.precision,
  currency_format: '1,234,567.89',
  is_base_currency: c.isBase,
  exchange_rate: c.exchangeRate,
});

export const taxJson = (t: Tax) => ({
  tax_id: t.taxId,
  tax_name: t.name,
  tax_percentage: t.percentage,
  tax_type: 'tax',
  is_default_tax: t.isDefault,
});

export const itemJson = (i: Item) => ({
  item_id: i.itemId,
  name: i.name,
  sku: i.sku,
  rate: i.rate,
  description: i.description,
  status: 'active',
});
