// What the collection endpoints share: Xero's list filters (comma lists, If-Modified-Since, page) and the
// batch rule of PUT/POST: `summarizeErrors` (default true) refuses the whole request with a 400 Error when
// any element is invalid; `summarizeErrors=false` answers 200 with each element's StatusAttributeString.
import type { Request } from 'express';
import { ElementInvalid, XeroHttpError, validationBody } from './errors.js';
import { parseModifiedSince } from './time.js';

type Json = Record<string, unknown>;
const MAX_ELEMENTS = 100;
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

/** `Statuses=AUTHORISED,PAID` (or the parameter repeated). */
export function csv(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','));
  return parts.map((s) => s.trim()).filter((s) => s !== '');
}

const JSON_DATE = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/;
const sortable = (v: unknown): unknown => (typeof v === 'string' && JSON_DATE.test(v) ? Number(JSON_DATE.exec(v)![1]) : v);

/** `order=UpdatedDateUTC ASC, InvoiceNumber DESC` over the answers' JSON ("/Date(…)/" compares as a time). */
export function orderBy(rows: Json[], order: unknown): Json[] {
  if (typeof order !== 'string' || order.trim() === '') return rows;
  const keys = order.split(',').slice(0, 5).map((part) => {
    const [field = '', dir = 'ASC'] = part.trim().split(/\s+/);
    return { path: field.split('.'), sign: dir.toUpperCase() === 'DESC' ? -1 : 1 };
  });
  const at = (row: Json, path: string[]) => sortable(path.reduce<unknown>((v, k) => (typeof v === 'object' && v !== null ? (v as Json)[k] : undefined), row));
  return [...rows].sort((a, b) => {
    for (const { path, sign } of keys) {
      const [x, y] = [at(a, path), at(b, path)] as [string | number | undefined, string | number | undefined];
      if (x === y) continue;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      return (x < y ? -1 : 1) * sign;
    }
    return 0;
  });
}

export const modifiedSince = (req: Request): number | undefined => parseModifiedSince(req.get('if-modified-since'));

/** One page of `items` when `page` is given (with Xero's `pagination`), else all of them. */
export function paginate<T>(items: T[], query: Record<string, unknown>): { items: T[]; pagination?: Json } {
  if (query.page === undefined) return { items };
  const page = Math.max(1, Math.floor(Number(query.page)) || 1);
  const size = Math.min(MAX_PAGE_SIZE, Math.max(1, Math.floor(Number(query.pageSize)) || DEFAULT_PAGE_SIZE));
  const pageCount = Math.ceil(items.length / size);
  return { items: items.slice((page - 1) * size, page * size), pagination: { page, pageSize: size, pageCount, itemCount: items.length } };
}

export interface BatchSpec<T> {
  /** The request body's collection, e.g. body.Invoices. */
  elements: unknown;
  what: string;
  summarize: boolean;
  /** Validates one element and returns what stores it; throws ElementInvalid. */
  plan(input: Json): () => T;
  render(result: T): Json;
  /** The element of a 400 Error (documented Element properties only). */
  errorElement(input: Json): Json;
  /** The element of a 200 answer with summarizeErrors=false (documented properties of the entity). */
  failedElement(input: Json, messages: string[]): Json;
  /** With summarizeErrors=false: the entity's own StatusAttributeString (absent on some, e.g. RepeatingInvoice). */
  okStatus?: boolean;
}

/** Runs a PUT/POST batch; returns the rendered elements for the 200 envelope. */
export function runBatch<T>(spec: BatchSpec<T>): Json[] {
  if (!Array.isArray(spec.elements) || spec.elements.length === 0) {
    throw new XeroHttpError(400, validationBody([], `The request must contain at least one ${spec.what}`));
  }
  if (spec.elements.length > MAX_ELEMENTS) {
    throw new XeroHttpError(400, validationBody([], `A request can contain at most ${MAX_ELEMENTS} ${spec.what}s`));
  }
  const inputs = spec.elements.map((e) => (typeof e === 'object' && e !== null && !Array.isArray(e) ? (e as Json) : {}));
  const plans = inputs.map((input) => {
    try {
      return { input, commit: spec.plan(input) };
    } catch (err) {
      if (err instanceof ElementInvalid) return { input, messages: err.messages };
      throw err;
    }
  });
  if (spec.summarize && plans.some((p) => p.messages)) {
    const failed = plans.filter((p) => p.messages);
    throw new XeroHttpError(
      400,
      validationBody(failed.map((p) => ({ ...spec.errorElement(p.input), ValidationErrors: p.messages!.map((Message) => ({ Message })) }))),
    );
  }
  return plans.map((p) => {
    if (p.messages) return spec.failedElement(p.input, p.messages);
    const rendered = spec.render(p.commit!());
    return spec.summarize || spec.okStatus === false ? rendered : { ...rendered, StatusAttributeString: 'OK' };
  });
}

export const summarizeErrors = (query: Record<string, unknown>): boolean => query.summarizeErrors !== 'false';

export const validationErrors = (messages: string[]) => messages.map((Message) => ({ Message }));
