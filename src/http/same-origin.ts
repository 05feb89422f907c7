// State-changing admin requests must come from the relay's own pages (or from a script, which is no
// browser and sends neither header). The session cookie is SameSite=Strict already; this is the second,
// independent check, and the one that also covers the login form (login CSRF) and a cookie-less bearer.
//
// - Sec-Fetch-Site, when the browser sends it (every current one does), decides: only `same-origin` (and
//   `none`: the user's own navigation) passes. The browser computes it, so no proxy setting affects it.
// - Otherwise Origin, when present, must equal the origin the request was made to: its scheme and Host as
//   they reached the relay — or, with TRUST_PROXY, as the proxy reports them in X-Forwarded-Proto and
//   X-Forwarded-Host (Express's req.protocol and req.host). Behind a proxy without TRUST_PROXY, a proxy
//   that keeps the Host header (nginx `proxy_set_header Host $host`, Caddy's default) still matches on the
//   host; the scheme then reads http, so set TRUST_PROXY to have https origins match.
// - Neither header: not a browser (curl, Prometheus, the CLI); the token or session decides as before.
import type { NextFunction, Request, Response } from 'express';

export function crossSiteReason(req: Request): string | undefined {
  const site = req.get('sec-fetch-site');
  if (site !== undefined) {
    return site === 'same-origin' || site === 'none' ? undefined : `the browser says the request came from another site (Sec-Fetch-Site: ${site.slice(0, 20)})`;
  }
  const origin = req.get('origin');
  if (origin === undefined) return undefined;
  const own = ownOrigin(req);
  if (own !== undefined && normalOrigin(origin) === own) return undefined;
  return `the request came from another origin (Origin: ${origin.slice(0, 200)}; this relay is ${own ?? 'unknown'})`;
}

/** Middleware: 403 with the reason for a cross-site request, before any token or session is looked at. */
export function refuseCrossSite(req: Request, res: Response, next: NextFunction): void {
  const reason = crossSiteReason(req);
  if (!reason) return next();
  res.status(403).json({
    error: 'cross_site_request',
    message: `Refused: ${reason}. Admin actions are taken from the relay's own pages, or by a script with Authorization: Bearer <ADMIN_TOKEN>.`,
  });
}

function ownOrigin(req: Request): string | undefined {
  return normalOrigin(`${req.protocol}://${req.host}`);
}

function normalOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.origin === 'null' ? undefined : url.origin.toLowerCase();
  } catch {
    return undefined;
  }
}
