// Online payment gateways, as Zoho's contract documents them (invoices.yml, recurring-invoices.yml):
// `payment_options.payment_gateways: [{ gateway_name, configured, additional_field1 }]` on invoice and
// recurring invoice requests and answers; gateway_name one of paypal, authorize_net, payflow_pro, stripe,
// 2checkout, braintree. The organization's configured gateways are set up in Zoho Books' UI (Settings › Online
// Payments); the API lists them nowhere, so the fake keeps them on the organization, set by the control API.
// An invoice keeps the gateways it was sent with; its answer says per gateway whether the organization has it
// configured now. An invoice sent without payment_options keeps none (the fake does not guess Zoho's default).
import { invalidValue } from './errors.js';
import { optObject, type Body } from './fields.js';
import type { Organization } from './state.js';

/** gateway_name's allowed values (invoices.yml, gateway_name). */
export const DOCUMENTED_GATEWAYS = ['paypal', 'authorize_net', 'payflow_pro', 'stripe', '2checkout', 'braintree'] as const;

/** The gateways of `payment_options` in a request body; undefined when it carries none (left as it was). */
export function gatewaysOf(b: Body): string[] | undefined {
  const options = optObject(b, 'payment_options');
  if (!options) return undefined;
  const list = options.payment_gateways;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || list.length > DOCUMENTED_GATEWAYS.length) throw invalidValue('Invalid value passed for payment_gateways');
  const names: string[] = [];
  for (const g of list) {
    const name = typeof g === 'object' && g !== null && !Array.isArray(g) ? (g as Body).gateway_name : undefined;
    if (typeof name !== 'string' || !(DOCUMENTED_GATEWAYS as readonly string[]).includes(name)) {
      throw invalidValue(`Invalid value passed for gateway_name${typeof name === 'string' ? `: ${name.slice(0, 40)}` : ''}`);
    }
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** `payment_options` of an answer: the record's gateways, each marked configured or not in the organization. */
export function paymentOptionsJson(org: Organization | undefined, gateways: string[]) {
  return {
    payment_gateways: gateways.map((name) => ({
      gateway_name: name,
      configured: org?.paymentGateways.includes(name) ?? false,
      // PayPal's method (standard or adaptive); the others document none.
      ...(name === 'paypal' ? { additional_field1: 'standard' } : {}),
    })),
  };
}

/** The organization's gateways to set: documented names, once each. */
export function checkGateways(gateways: string[]): string[] {
  const unknown = gateways.filter((g) => !(DOCUMENTED_GATEWAYS as readonly string[]).includes(g));
  if (unknown.length) throw new Error(`unknown payment gateway ${unknown.join(', ')} (Zoho documents ${DOCUMENTED_GATEWAYS.join(', ')})`);
  return [...new Set(gateways)];
}
