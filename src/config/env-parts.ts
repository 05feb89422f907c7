// The kinds of settings the relay and its backends' settings share (numbers in a range, URLs, origins,
// OAuth redirect URIs). Only zod here: backends' settings schemas import it without the rest of the relay.
import { z } from 'zod';

export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const optionalString = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s ? s : undefined));

export const httpUrl = z
  .string()
  .trim()
  .url({ message: 'must be a URL such as https://example.com' })
  .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://')
  .transform((u) => u.replace(/\/+$/, ''));

/** A scheme and host (and port) only: the relay appends the paths itself, so a path would be doubled. */
export const origin = (example: string) =>
  httpUrl.refine((u) => {
    const url = new URL(u);
    return url.pathname === '/' && !url.search && !url.hash;
  }, `must be a bare origin with no path, such as ${example} (the relay adds the paths)`);

export const redirectUri = (path: string) => httpUrl.refine((u) => new URL(u).pathname === path, `must be the relay's public URL followed by ${path}, e.g. https://relay.example.com${path}`);

export const GENERATE_ADMIN_TOKEN = 'generate one with: openssl rand -hex 32';

/** zod's issues as "SETTING: message" lines; a missing value says "is required". */
export function settingProblems(issues: z.core.$ZodIssue[], given: Record<string, string | undefined>): string[] {
  return issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const message = issue.code === 'invalid_type' && given[name] === undefined ? issue.message.replace(/^Invalid input.*$/, 'is required') : issue.message;
    return `${name}: ${message}`;
  });
}
