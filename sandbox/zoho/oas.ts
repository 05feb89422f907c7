// Checks what the relay sends against Zoho's own OpenAPI documents. Violations are recorded, not
// answered, so one test run lists every drift at once (tests assert the list is empty at the end).
import type { NextFunction, Request, Response } from 'express';
import { defaultOasDir, loadZohoOas, type OasValidator } from '../oas/validator.js';

export interface OasViolation {
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
    // Surface a broken OAS directory when someone awaits ready(), not as an unhandled rejection.
    this.loading.catch(() => undefined);
  }

  static fromOptions(opts: { oasDir?: string; validateOas?: boolean }): OasGate {
    return new OasGate(opts.oasDir ?? (opts.validateOas ? defaultOasDir() : undefined));
  }

  async ready(): Promise<void> {
    await this.loading;
  }

  /** Mounted under /books/v3, so req.path is already relative. */
  middleware() {
    return async (req: Request, _res: Response, next: NextFunction) => {
      const validator = await this.loading;
      // Endpoints without an OAS document here (e.g. /items) cannot be checked, only served. The OAS
      // marks organization_id required on GET /organizations too, but that call is how a client learns it.
      const op = validator?.operation(req.method, req.path);
      if (validator && op) {
        const messages = validator
          .validate({ method: req.method, path: req.path, query: { ...(req.query as Record<string, unknown>) }, body: req.body })
          .filter((m) => !(op.operationId === 'list_organizations' && /organization_id is required/.test(m)));
        if (messages.length > 0)
          this.violations.push({ method: req.method, path: req.path, operationId: op.operationId, messages });
      }
      next();
    };
  }
}
