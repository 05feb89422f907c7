// Xero's API under nock: every request the client sends is recorded (method, path, query, headers, body) and
// checked against Xero's own document (contract/xero/accounting.json) through the sandbox's validator, and
// every canned answer is checked too, so neither the client nor the test can drift from what Xero publishes.
import nock from 'nock';
import type { OasValidator } from '../../sandbox/oas/validator.js';
import { loadXeroContract } from '../../sandbox/xero/contract.js';

export const XERO_BASE = 'https://api.xero.com';
export const API_PREFIX = '/api.xro/2.0';

export interface SeenRequest {
  method: string;
  /** Below /api.xro/2.0, e.g. '/Invoices'. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
}

let validator: Promise<OasValidator> | undefined;
/** Xero's contract with Xero's own overrides (src/accounting/xero/contract/overrides.ts), as the fake uses it. */
export const xeroOas = (): Promise<OasValidator> => (validator ??= loadXeroContract());

type Answer = [number, unknown?, Record<string, string>?];

export class XeroApiMock {
  readonly seen: SeenRequest[] = [];
  readonly violations: string[] = [];

  constructor(private readonly oas: OasValidator) {}

  /**
   * Answers `method path` (below the prefix, query ignored in matching) `times` times with `answer` (a
   * function gets the request seen). The answer's body is checked against the contract when it is 2xx.
   */
  on(method: 'GET' | 'PUT' | 'POST', pathname: string, answer: Answer | ((req: SeenRequest, n: number) => Answer | Promise<Answer>), times = 1, delayMs = 0): nock.Scope {
    let n = 0;
    const scope = nock(XERO_BASE)
      .intercept(`${API_PREFIX}${pathname}`, method)
      .query(true)
      .times(times)
      .delay(delayMs)
      .reply(async (req: Request) => {
        const url = new URL(req.url);
        const sent = await req.text();
        const seen: SeenRequest = {
          method,
          path: url.pathname.slice(API_PREFIX.length),
          query: Object.fromEntries(url.searchParams),
          headers: Object.fromEntries([...req.headers.entries()].map(([k, v]) => [k.toLowerCase(), v])),
          body: sent ? (JSON.parse(sent) as unknown) : undefined,
        };
        this.seen.push(seen);
        this.violations.push(...this.oas.validate({ method, path: seen.path, query: seen.query, body: seen.body }));
        const [status, body, headers] = typeof answer === 'function' ? await answer(seen, ++n) : answer;
        if (status < 300 && body !== undefined) this.violations.push(...this.oas.validateResponse({ method, path: seen.path, status, body }));
        const text = typeof body === 'string' ? body : body === undefined ? '' : JSON.stringify(body);
        return [status, text, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers }];
      });
    return scope;
  }
}
