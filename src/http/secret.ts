import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** Constant-time comparison that also hides the secret's length (both sides are hashed first). */
export function secretMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Guards a route whose `:secret` path segment must equal the configured webhook secret. Runs before
 *  the body is read, so a request with a wrong secret stores nothing and costs nothing. */
export function requirePathSecret(expected: string) {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = typeof req.params.secret === 'string' ? req.params.secret : '';
    if (!secretMatches(given, expected)) {
      res.status(403).json({ error: 'invalid_secret', message: 'The webhook URL does not carry the right secret: copy the URL again from the relay set-up (WEBHOOK_SECRET).' });
      return;
    }
    next();
  };
}
