// The options of createFakeXero; every one has a Xero-like default.
import type { LimitSettings } from './limits.js';
import type { TenantInput } from './settings.js';
import type { WebhookConfig } from './webhooks.js';

export interface FakeXeroOptions {
  clientId?: string;
  clientSecret?: string;
  /** Organisations the login reaches; default one, "Demo Company (UK)" (GBP, UK VAT rates). */
  tenants?: TenantInput[];
  accessTokenTtlSeconds?: number;
  refreshGraceSeconds?: number;
  refreshTokenTtlDays?: number;
  /** Scope of the pre-issued tokens (`refreshToken`, mintAccessToken). */
  scope?: string;
  /** Scopes the authorize endpoint refuses with invalid_scope. */
  refusedScopes?: string[];
  limits?: Partial<LimitSettings>;
  idempotencyWindowMs?: number;
  caseSensitiveWhere?: boolean;
  emailDailyLimit?: number;
  webhook?: WebhookConfig;
  /** Check traffic against contract/xero (default true). */
  validateContract?: boolean;
  /** Also inject faults on the identity routes (off by default). */
  faultIdentity?: boolean;
  /** Base URL for webhook resourceUrls instead of the one listen() gets. */
  publicUrl?: string;
}

/** Scope of the tokens the fake issues without a consent (refreshToken, mintAccessToken, issueTokens). */
// The granular scopes apps created from March 2026 must use instead of accounting.transactions
// (shared/reference/xero.md "OAuth 2.0"), and paymentservices, as a relay connected for invoice.payOnline
// (XERO_SCOPES with it) has. The fake checks a scope on one route only: a branding theme's PaymentServices,
// whose contract security is paymentservices alone (a token without it gets 401 AuthorizationUnsuccessful).
export const DEFAULT_SCOPE = 'offline_access accounting.invoices accounting.payments accounting.contacts accounting.settings paymentservices';
