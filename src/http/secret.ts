import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Constant-time comparison that also hides the secret's length (both sides are hashed first). */
export function secretMatches(given: string, expected: string | Buffer): boolean {
  return timingSafeEqual(digest(given), typeof expected === 'string' ? digest(expected) : expected);
}

/** Guards a route whose `:secret` path segment must equal the configured webhook secret. Runs before
 *  the body is read, so a request with a wrong secret stores nothing and costs nothing. */
export function requirePathSecret(expected: string) {
  const expectedDigest = digest(expected); // once, not per webhook
  return (req: Request, res: Response, next: NextFunction) => {
    const given = typeof req.params.secret === 'string' ? req.params.secret : '';
    if (!secretMatches(given, expectedDigest)) {
      res.status(403).json({ error: 'invalid_secret', message: 'The webhook URL does not carry the right secret: copy the URL again from the relay set-up (WEBHOOK_SECRET).' });
      return;
    }
    next();
  };
}
