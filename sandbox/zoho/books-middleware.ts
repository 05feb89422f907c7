// The gate in front of every /books/v3 route, in Zoho's order: access token (401 code 57), scope,
// organization_id (400), per-organization rate limit (429 code 45, X-Rate-Limit-* headers), then the
// route. Also the error renderer that turns thrown ZohoErrors into `{code, message}`.
import type { NextFunction, Request, Response } from 'express';
import { WindowRateLimiter } from '../common.js';
import { scopeAllows, type ZohoAccounts } from './accounts.js';
import { ZohoCode, ZohoError, errorBody } from './errors.js';
import type { Organization, ZohoState } from './state.js';

export const NOT_AUTHORIZED = errorBody(ZohoCode.notAuthorized, 'You are not authorized to perform this operation');
export const RATE_LIMITED = errorBody(
  ZohoCode.rateLimited,
  'You have made too many requests continuously. Please try again after some time.',
);

/** Zoho scope modules: recurring invoices live under `invoices`; items and org settings under `settings`. */
const SCOPE_MODULE: Record<string, string> = {
  invoices: 'invoices',
  recurringinvoices: 'invoices',
  contacts: 'contacts',
  customerpayments: 'customerpayments',
};
const SCOPE_OPERATION: Record<string, string> = { GET: 'READ', POST: 'CREATE', PUT: 'UPDATE', DELETE: 'DELETE' };

export function authenticate(accounts: ZohoAccounts) {
  return (req: Request, res: Response, next: NextFunction) => {
    const m = /^Zoho-oauthtoken\s+(\S+)$/.exec(req.get('authorization') ?? '');
    const scopes = accounts.authenticate(m?.[1]);
    const segment = req.path.split('/')[1] ?? '';
    const allowed =
      scopes !== undefined && scopeAllows(scopes, SCOPE_MODULE[segment] ?? 'settings', SCOPE_OPERATION[req.method] ?? 'READ');
    if (!allowed) {
      res.status(401).json(NOT_AUTHORIZED);
      return;
    }
    next();
  };
}

/** Every call but `GET /organizations` names its organization; the record goes to res.locals.org. */
export function resolveOrganization(state: ZohoState) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' && req.path === '/organizations') return next();
    const id = req.query.organization_id;
    if (typeof id !== 'string' || id === '') {
      res.status(400).json(errorBody(ZohoCode.organizationInvalid, 'organization_id is required'));
      return;
    }
    const org = state.organizations.get(id);
    if (!org) {
      res.status(400).json(errorBody(ZohoCode.organizationInvalid, 'Organization ID is invalid'));
      return;
    }
    res.locals.org = org satisfies Organization;
    next();
  };
}

export interface RateLimits {
  perWindow: WindowRateLimiter;
  /** Plan's daily cap, off unless configured (Free ≈ 1,000, top plans 10,000). */
  daily?: WindowRateLimiter;
}

/** Fixed window per organization; the headers describe the per-minute window, as Zoho's do. */
export function rateLimit(limits: RateLimits) {
  return (_req: Request, res: Response, next: NextFunction) => {
    const org = res.locals.org as Organization | undefined;
    if (!org) return next(); // GET /organizations is not tied to one organization
    const w = limits.perWindow.take(org.organizationId);
    res.set({
      'X-Rate-Limit-Limit': String(limits.perWindow.limit),
      'X-Rate-Limit-Remaining': String(w.remaining),
      'X-Rate-Limit-Reset': String(Math.ceil(w.resetMs / 1000)),
    });
    if (!w.allowed || (limits.daily && !limits.daily.take(org.organizationId).allowed)) {
      res.status(429).json(RATE_LIMITED);
      return;
    }
    next();
  };
}

/** Zoho's older form style: `JSONString=<json>` as a form field instead of a JSON body. */
export function unwrapJsonString(req: Request, _res: Response, next: NextFunction) {
  const body = req.body as Record<string, unknown> | undefined;
  if (req.is('application/x-www-form-urlencoded') && typeof body?.JSONString === 'string') {
    try {
      req.body = JSON.parse(body.JSONString);
    } catch {
      return next(new ZohoError(400, ZohoCode.malformedJson, 'JSON is not well formed'));
    }
  }
  next();
}

export function booksNotFound(_req: Request, res: Response) {
  res.status(404).json(errorBody(ZohoCode.invalidUrl, 'Invalid URL Passed'));
}

export function booksErrors(err: unknown, _req: Request, res: Response, _next: NextFunction) {
  if (err instanceof ZohoError) {
    res.status(err.status).json(errorBody(err.code, err.message));
    return;
  }
  if ((err as { type?: string }).type === 'entity.parse.failed') {
    res.status(400).json(errorBody(ZohoCode.malformedJson, 'JSON is not well formed'));
    return;
  }
  res.status(500).json(errorBody(ZohoCode.internal, `Fake Zoho failed: ${err instanceof Error ? err.message : String(err)}`));
}

/** Bodies FaultInjector answers with, in Zoho's error format. */
export function faultBody(status: number) {
  if (status === 429) return RATE_LIMITED;
  if (status === 401) return NOT_AUTHORIZED;
  return errorBody(ZohoCode.internal, `Simulated HTTP ${status} from the fake Zoho Books`);
}
