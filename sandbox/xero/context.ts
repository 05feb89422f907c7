// What the route modules share: the state, the clock, the switches that change Xero-like behaviour, and
// the hook through which invoice changes become webhooks.
import type { Clock } from './time.js';
import type { Invoice, Tenant, XeroState } from './state.js';

export interface XeroContext {
  state: XeroState;
  clock: Clock;
  /** Whether `where` `==` on text is case-sensitive (Xero: unconfirmed; default false). */
  caseSensitiveWhere: boolean;
  /** Emails per organisation per day before POST /Invoices/{id}/Email is refused; undefined = no cap. */
  emailDailyLimit: number | undefined;
  invoiceChanged(invoice: Invoice, event: 'CREATE' | 'UPDATE'): void;
  /** The scopes of the access token in this Authorization header ([] for none). */
  grantedScopes(authorization: string | undefined): string[];
}

export function tenantOf(locals: Record<string, unknown>): Tenant {
  const tenant = locals.tenant as Tenant | undefined;
  if (!tenant) throw new Error('no tenant resolved for this request');
  return tenant;
}
