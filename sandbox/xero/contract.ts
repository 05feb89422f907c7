// Checks the fake Xero's traffic against the contract the repository carries (contract/xero: accounting,
// identity and webhooks documents derived from Xero's OpenAPI documents), with the live-API differences of
// ./overrides.ts: what the relay sends (query, the xero-tenant-id / Idempotency-Key / If-Modified-Since
// headers, bodies), what the fake answers (strictly: an undocumented property is a violation; the documented
// 400 Error body too), and the webhooks the fake sends (strictly). Violations are recorded, not answered.
import type { NextFunction, Request, Response } from 'express';
import { XERO_SCHEMA_OVERRIDES } from '../../src/accounting/xero/contract/overrides.js';
import { isObject, type Json } from '../oas/schemas.js';
import { contractFile, loadContract, type OasValidator } from '../oas/validator.js';

export interface XeroViolation {
  /** 'request': the relay sent what Xero's contract rejects; 'response' / 'webhook': the fake did. */
  direction: 'request' | 'response' | 'webhook';
  method: string;
  path: string;
  operationId?: string;
  messages: string[];
}

export const XERO_DOCUMENTS = ['accounting.json', 'identity.json', 'webhooks.json'];

/** Patches the component schemas XERO_SCHEMA_OVERRIDES names in this document ('accounting.json' → 'accounting'). */
export function applyXeroOverrides(root: Json, file: string): void {
  const schemas = isObject(root.components) && isObject(root.components.schemas) ? root.components.schemas : {};
  for (const o of XERO_SCHEMA_OVERRIDES) {
    const schema = schemas[o.schema];
    if (file === `${o.document}.json` && isObject(schema)) o.patch(schema);
  }
}

export function loadXeroContract(files = XERO_DOCUMENTS.map((f) => contractFile('xero', f))): Promise<OasValidator> {
  return loadContract({ files, name: 'Xero contract', overrides: applyXeroOverrides, ignoreCase: true, checkErrorResponses: true });
}

export class XeroContractGate {
  readonly violations: XeroViolation[] = [];
  private loading: Promise<OasValidator | undefined>;

  constructor(enabled: boolean) {
    this.loading = enabled ? loadXeroContract() : Promise.resolve(undefined);
    this.loading.catch(() => undefined);
  }

  async ready(): Promise<void> {
    await this.loading;
  }

  /** Mounted where req.path is what the contract names: under /api.xro/2.0, and at / for /connections. */
  middleware() {
    return async (req: Request, res: Response, next: NextFunction) => {
      const validator = await this.loading;
      if (!validator) return next();
      const { method, path } = req;
      const op = validator.operation(method, path);
      if (!op) {
        // contract/xero carries every operation a Xero client of the relay may use: anything else is drift.
        this.violations.push({ direction: 'request', method, path, messages: validator.validate({ method, path, query: {}, body: undefined }) });
        return next();
      }
      const record = (direction: XeroViolation['direction'], messages: string[]) => {
        if (messages.length > 0) this.violations.push({ direction, method, path, operationId: op.operationId, messages });
      };
      const body = req.body !== undefined && Object.keys(req.body as object).length === 0 && method === 'GET' ? undefined : req.body;
      record('request', validator.validate({ method, path, query: { ...(req.query as Record<string, unknown>) }, headers: { ...req.headers }, body }));
      const json = res.json.bind(res);
      res.json = (answer: unknown) => {
        record('response', validator.validateResponse({ method, path, status: res.statusCode, body: answer }));
        return json(answer);
      };
      next();
    };
  }

  /** A webhook body the fake is about to send, e.g. to the 'invoices' webhook. */
  async checkWebhook(name: string, body: unknown): Promise<void> {
    const validator = await this.loading;
    if (!validator) return;
    const messages = validator.validate({ method: 'POST', path: name, query: {}, body }, { strict: true });
    if (messages.length > 0) this.violations.push({ direction: 'webhook', method: 'POST', path: name, operationId: validator.operation('POST', name)?.operationId, messages });
  }
}
