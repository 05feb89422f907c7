// Response and query helpers shared by the /api/v4 routes: Kommo's content types, problem+json errors,
// "204 with no body" for empty results, and page/limit pagination with `_links.next`.
import { STATUS_CODES } from 'node:http';
import type { Request, Response } from 'express';
import type { FieldError } from './types.js';

export function problemBody(status: number, detail?: string): Record<string, unknown> {
  return { title: STATUS_CODES[status] ?? 'Error', type: `https://httpstatus.es/${status}`, status, detail: detail ?? STATUS_CODES[status] ?? 'Error' };
}

export function problem(res: Response, status: number, detail?: string, extra: Record<string, unknown> = {}): void {
  res.status(status).type('application/problem+json').send(JSON.stringify({ ...problemBody(status, detail), ...extra }));
}

export function validationProblem(res: Response, groups: Array<{ request_id: string; errors: FieldError[] }>): void {
  problem(res, 400, 'Request validation failed', { 'validation-errors': groups });
}

export function hal(res: Response, body: unknown, status = 200): void {
  res.status(status).type('application/hal+json').send(JSON.stringify(body));
}

/** Kommo answers an empty result or an unknown id with 204 and no body at all. */
export function noContent(res: Response): void {
  res.removeHeader('Content-Type');
  res.status(204).end();
}

export function baseUrl(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`;
}

/**
 * The raw query string: parsed here rather than through `qs`, which turns arrays longer than 20 into objects
 * and would make `filter[id][]` with many ids behave differently from the real API.
 */
export function rawParams(req: Request): URLSearchParams {
  const q = req.originalUrl.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : req.originalUrl.slice(q + 1));
}

/** Values of `name`, `name[]` and `name[N]`, comma lists split: `filter[id][]=1&filter[id][1]=2`, `filter[id]=1,2`. */
export function listParam(params: URLSearchParams, name: string): string[] {
  const out: string[] = [];
  for (const [k, v] of params) {
    if (k === name || k === `${name}[]` || (k.startsWith(`${name}[`) && /^\[\d+\]$/.test(k.slice(name.length)))) {
      out.push(...v.split(',').map((s) => s.trim()).filter(Boolean));
    }
  }
  return out;
}

export function intList(params: URLSearchParams, name: string): number[] | null {
  const raw = listParam(params, name);
  if (!raw.length) return null;
  return raw.filter((s) => /^\d+$/.test(s)).map(Number);
}

export function withSet(params: URLSearchParams): Set<string> {
  return new Set(listParam(params, 'with'));
}

export function pageParams(params: URLSearchParams, maxLimit: number, defaultLimit = maxLimit): { page: number; limit: number } {
  const page = Number(params.get('page') ?? '1');
  const limit = Number(params.get('limit') ?? String(defaultLimit));
  return {
    page: Number.isInteger(page) && page >= 1 ? page : 1,
    // Kommo caps `limit` rather than failing; clients must follow `_links.next` anyway.
    limit: Number.isInteger(limit) && limit >= 1 ? Math.min(limit, maxLimit) : defaultLimit,
  };
}

/** One page of `items`, or null when the page is empty (the caller answers 204). */
export function paginate<T>(req: Request, items: T[], maxLimit: number, defaultLimit = maxLimit) {
  const params = rawParams(req);
  const { page, limit } = pageParams(params, maxLimit, defaultLimit);
  const slice = items.slice((page - 1) * limit, page * limit);
  if (!slice.length) return null;
  const link = (p: number) => {
    const q = new URLSearchParams(params);
    q.set('page', String(p));
    q.set('limit', String(limit));
    return { href: `${baseUrl(req)}${req.path}?${q.toString()}` };
  };
  const links: Record<string, { href: string }> = { self: link(page) };
  if (page * limit < items.length) links.next = link(page + 1);
  if (page > 1) links.prev = link(page - 1);
  return { page, slice, links };
}

export function parseId(s: string | undefined): number | null {
  return s !== undefined && /^\d{1,15}$/.test(s) ? Number(s) : null;
}
