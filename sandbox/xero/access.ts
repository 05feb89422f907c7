// The gate in front of every /api.xro/2.0 route: a live Bearer token (401 otherwise: "TokenExpired" once
// it has expired), then the `xero-tenant-id` header naming an organisation the app is connected to (403
// "AuthenticationUnsuccessful" when missing, unknown or disconnected: shared/reference/xero.md "OAuth 2.0").
import type { NextFunction, Request, Response } from 'express';
import { problem } from './errors.js';
import type { XeroIdentity } from './identity.js';
import type { XeroState } from './state.js';

export function requireToken(identity: XeroIdentity) {
  return (req: Request, res: Response, next: NextFunction) => {
    const verdict = identity.authenticate(req.get('authorization'));
    if (verdict === 'ok') return next();
    res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
    res.status(401).json(problem(401, 'Unauthorized', verdict === 'expired' ? 'TokenExpired: token expired' : 'AuthenticationUnsuccessful'));
  };
}

export function requireTenant(state: XeroState) {
  return (req: Request, res: Response, next: NextFunction) => {
    const id = (req.get('xero-tenant-id') ?? '').trim().toLowerCase();
    const tenant = state.tenants.get(id);
    const connected = tenant && [...state.connections.values()].some((c) => c.tenantId === id);
    if (!tenant || !connected) {
      res.status(403).json(problem(403, 'Forbidden', 'AuthenticationUnsuccessful'));
      return;
    }
    res.locals.tenant = tenant;
    next();
  };
}
