// Xero's error answers. Validation failures are the documented Error schema (400 `{ErrorNumber: 10, Type:
// "ValidationException", Message, Elements: [{…, ValidationErrors: [{Message}]}]}`); the others (401, 403,
// 404, 429) are not documented by the contract: 404 is plain text (xero-node#209), the auth failures are
// the problem-details JSON Xero's identity layer answers with ({Title, Status, Detail}; second-hand, see
// shared/reference/xero.md "OAuth 2.0"), and the fake uses the same shape for 429.
import type { NextFunction, Request, Response } from 'express';

/** One element (invoice, contact, …) Xero refuses, with its messages. */
export class ElementInvalid extends Error {
  constructor(readonly messages: string[]) {
    super(messages.join('; '));
  }
}

/** A whole request refused with `status` and a ready body (JSON) or text. */
export class XeroHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly text?: string,
  ) {
    super(text ?? `HTTP ${status}`);
  }
}

export const validationBody = (elements: Record<string, unknown>[], message = 'A validation exception occurred') => ({
  ErrorNumber: 10,
  Type: 'ValidationException',
  Message: message,
  Elements: elements,
});

/** 400 for a single element, e.g. an invoice that cannot be emailed. */
export const refuse = (message: string, element: Record<string, unknown> = {}) =>
  new XeroHttpError(400, validationBody([{ ...element, ValidationErrors: [{ Message: message }] }]));

export const notFound = () => new XeroHttpError(404, undefined, "The resource you're looking for cannot be found");

/** Xero's answer to a `where` it cannot parse. */
export const queryParseError = (message: string) =>
  new XeroHttpError(400, { ErrorNumber: 16, Type: 'QueryParseException', Message: message });

export const problem = (status: number, title: string, detail: string) => ({ Title: title, Status: status, Detail: detail });

export function sendError(res: Response, err: XeroHttpError): void {
  if (err.text !== undefined) res.status(err.status).type('text/plain').send(err.text);
  else res.status(err.status).json(err.body);
}

export function accountingErrors(err: unknown, _req: Request, res: Response, _next: NextFunction) {
  if (err instanceof XeroHttpError) return sendError(res, err);
  if (err instanceof ElementInvalid) return void res.status(400).json(validationBody([{ ValidationErrors: err.messages.map((Message) => ({ Message })) }]));
  if ((err as { type?: string }).type === 'entity.parse.failed') {
    return void res.status(400).json({ ErrorNumber: 14, Type: 'PostDataInvalidException', Message: 'The JSON request body could not be parsed' });
  }
  res.status(500).json(problem(500, 'Internal Server Error', `Fake Xero failed: ${err instanceof Error ? err.message : String(err)}`));
}

/** Bodies the FaultInjector answers with. */
export function faultBody(status: number) {
  if (status === 401) return problem(401, 'Unauthorized', 'TokenExpired: token expired');
  if (status === 429) return problem(429, 'Too Many Requests', 'Rate limit exceeded');
  return problem(status, 'Server Error', `Simulated HTTP ${status} from the fake Xero`);
}
