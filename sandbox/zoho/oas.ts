// Checks what the relay sends to Zoho, and what this fake answers, against the Zoho Books contract the
// repository carries. Violations are recorded, not answered, so one test run lists every drift at once
// (tests assert the list is empty at the end).
import type { NextFunction, Request, Response } from 'express';
import { defaultContractDir, loadZohoOas, type OasValidator } from '../oas/validator.js';

export interface OasViolation {
  /** 'request': the relay sent something Zoho's contract rejects; 'response': the fake answered one. */
  direction: 'request' | 'response';
  method: string;
  /** Relative to /books/v3, as the validator sees it. */
  path: string;
  operationId?: string;
  messages: string[];
}

export class OasGate {
  readonly violations: OasViolation[] = [];
  private loading: Promise<OasValidator | undefined>;

  constructor(dir: string | undefined) {
    this.loading = dir === undefined ? Promise.resolve(undefined) : loadZohoOas(dir);
    // Surface a broken contract directory when someone awaits ready(), not as an unhandled rejection.
    this.loading.catch(() => undefined);
  }

  static fromOptions(opts: { contractDir?: string; validateOas?: boolean }): OasGate {
    return new OasGate(opts.contractDir ?? (opts.validateOas ? defaultContractDir() : undefined));
  }

  async ready(): Promise<void> {
    await this.loading;
  }

  /** Mounted under /books/v3, so req.path is already relative. */
  middleware() {
    return async (req: Request, res: Response, next: NextFunction) => {
      const validator = await this.loading;
      // Endpoints without a contract document here (e.g. /items) cannot be checked, only served. The
      // contract marks organization_id required on GET /organizations too, but that call is how a client learns it.
      const op = validator?.operation(req.method, req.path);
      if (!validator || !op) return next();
      const { method, path } = req;
      const record = (direction: OasViolation['direction'], messages: string[]) => {
        if (messages.length > 0) this.violations.push({ direction, method, path, operationId: op.operationId, messages });
      };
      const requestMessages = validator
        .validate({ method, path, query: { ...(req.query as Record<string, unknown>) }, body: req.body })
        .filter((m) => !(op.operationId === 'list_organizations' && /organization_id is required/.test(m)));
      record('request', requestMessages);
      // Every answer of the routes goes through res.json: check it on its way out.
      const json = res.json.bind(res);
      res.json = (body: unknown) => {
        record('response', validator.validateResponse({ method, path, status: res.statusCode, body }));
        return json(body);
      };
      next();
    };
  }
}
