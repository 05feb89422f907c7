// Checks a vendor's traffic against the contract the repository carries (contract/<vendor>, derived from
// the vendor's own OpenAPI documents by scripts/derive-contract.ts): requests as the vendor would read them,
// and the fakes' responses strictly, so neither the relay nor a fake can drift from what the vendor publishes.
// One loader serves every contract: Zoho Books' directory of documents, Xero's accounting, identity and
// webhooks documents; what differs between vendors is passed in as ContractOptions.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { coerceQuery, jsonSchemaOf, mergeParameters, parametersSchema, repoRoot, type Parameter } from './parameters.js';
import { check } from './report.js';
import { adaptOpenApi30, applyOverrides, isObject, resolve, strictObjects, type Json } from './schemas.js';

export interface OasRequest {
  method: string;
  /** Relative to the API's base URL, e.g. '/invoices' or '/invoices/9834000000123456789/email'. */
  path: string;
  query: Record<string, unknown>;
  /** When given, the operation's header parameters are checked too (names in any case). */
  headers?: Record<string, unknown>;
  body: unknown;
}

export interface OasResponse {
  method: string;
  path: string;
  status: number;
  body: unknown;
}

export interface OasValidator {
  /**
   * Human-readable violations, empty when the request conforms. `strict` checks the body as strictly as
   * a response: for what a fake itself sends as a request (a vendor's webhook).
   */
  validate(req: OasRequest, opts?: { strict?: boolean }): string[];
  /**
   * Violations of a response: a property the response schema does not document is one. Error answers
   * (4xx, 5xx) are checked only with `checkErrorResponses` and only where the contract documents their
   * status; an undocumented 2xx status is always a violation.
   */
  validateResponse(res: OasResponse): string[];
  /** The matching operation, if any. */
  operation(method: string, path: string): { operationId: string; pathTemplate: string } | undefined;
}

export interface ContractOptions {
  /** JSON contract documents; their base names must differ (each is one schema root). */
  files: string[];
  /** Ends the message for an unknown operation: 'no operation GET /x in the <name>'. */
  name: string;
  /** Live-API differences applied to each document's schema root before compiling (default: none). */
  overrides?: (root: Json, file: string) => void;
  /** Match paths ignoring case (Xero's '/Connections' is called as '/connections'). */
  ignoreCase?: boolean;
  /** Check 4xx/5xx answers whose status the operation documents (Xero documents its 400 Error body). */
  checkErrorResponses?: boolean;
}

interface Operation {
  operationId: string;
  pathTemplate: string;
  /** 'POST /invoices (create_invoice)', the prefix of every violation. */
  label: string;
  queryParams: Parameter[];
  headerParams: Parameter[];
  hasBody: boolean;
  statuses: string[];
  /** Compiled on first use: most operations are never called, and compiling all of them costs start-up time. */
  schema(part: 'query' | 'headers' | 'body' | `responses/${string}`, strict?: boolean): ValidateFunction;
}

interface Route {
  segments: string[];
  /** One character per segment, '0' literal and '1' template: sorting on it tries literal segments first. */
  specificity: string;
  byMethod: Map<string, Operation>;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
/** OpenAPI formats of numbers and strings that constrain nothing JSON can tell apart. */
const OPEN_FORMATS = ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password'];
const isTemplate = (segment: string): boolean => /^\{[^}]+\}$/.test(segment);
const splitPath = (p: string): string[] => p.replace(/\/+$/, '').split('/');
const headerKey = (p: Parameter): string => p.name.toLowerCase();

/** `<repo root>/contract/zoho-books`, the committed contract. */
export function defaultContractDir(): string {
  return path.join(repoRoot(), 'contract', 'zoho-books');
}

/** `<repo root>/contract/<vendor>/<file>`. */
export function contractFile(vendor: string, file: string): string {
  return path.join(repoRoot(), 'contract', vendor, file);
}

export async function loadZohoOas(dir: string = defaultContractDir()): Promise<OasValidator> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`no Zoho Books contract documents (*.json) in ${dir}`);
  return loadContract({ files: files.map((f) => path.join(dir, f)), name: 'Zoho Books OAS', overrides: (root) => applyOverrides(root) });
}

export async function loadContract(opts: ContractOptions): Promise<OasValidator> {
  const newAjv = () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajvFormats.default(ajv);
    for (const format of OPEN_FORMATS) ajv.addFormat(format, true);
    return ajv;
  };
  const requestsAjv = newAjv();
  const responsesAjv = newAjv();
  const routes = new Map<string, Route>();
  const fold = (s: string) => (opts.ignoreCase ? s.toLowerCase() : s);

  for (const filePath of opts.files) {
    const file = path.basename(filePath);
    const doc = JSON.parse(await readFile(filePath, 'utf8')) as Json;
    // One schema root per document: its $refs are local (#/components/...), and each document has its own
    // components, so the same name (e.g. `custom_fields`) can mean different things in two documents.
    const schemas: { query: Json; headers: Json; body: unknown; responses: Record<string, unknown> }[] = [];
    const root = { components: doc.components ?? {}, operations: schemas };
    // OpenAPI 3.1 `webhooks` are operations the vendor calls: routed by their name ('invoices').
    const items = { ...((doc.paths ?? {}) as Record<string, Json>), ...((doc.webhooks ?? {}) as Record<string, Json>) };

    for (const [pathTemplate, item] of Object.entries(items)) {
      const segments = splitPath(pathTemplate);
      const key = segments.map((s) => (isTemplate(s) ? '{}' : fold(s))).join('/');
      const route = routes.get(key) ?? {
        segments,
        specificity: segments.map((s) => (isTemplate(s) ? '1' : '0')).join(''),
        byMethod: new Map(),
      };
      routes.set(key, route);

      for (const method of HTTP_METHODS) {
        const op = item[method];
        if (!isObject(op)) continue;
        const operationId = String(op.operationId ?? `${method} ${pathTemplate}`);
        const METHOD = method.toUpperCase();
        const existing = route.byMethod.get(METHOD);
        if (existing) throw new Error(`${file}: ${METHOD} ${pathTemplate} is also defined as ${existing.operationId}`);

        const params = mergeParameters(doc, item.parameters, op.parameters);
        const queryParams = params.filter((p) => p.in === 'query');
        const headerParams = params.filter((p) => p.in === 'header');
        const bodySchema = jsonSchemaOf(resolve(doc, op.requestBody));
        const responses = Object.fromEntries(
          Object.entries(isObject(op.responses) ? op.responses : {})
            .map(([status, response]) => [status, jsonSchemaOf(resolve(doc, response))] as const)
            .filter(([, schema]) => schema !== undefined),
        );
        const index =
          schemas.push({ query: parametersSchema(queryParams), headers: parametersSchema(headerParams, headerKey), body: bodySchema, responses }) - 1;

        const label = `${METHOD} ${pathTemplate} (${operationId})`;
        const compiled = new Map<string, ValidateFunction>();
        route.byMethod.set(METHOD, {
          operationId,
          pathTemplate,
          label,
          queryParams,
          headerParams,
          hasBody: bodySchema !== undefined,
          statuses: Object.keys(responses),
          schema(part: Parameters<Operation['schema']>[0], strict = part.startsWith('responses/')) {
            const cacheKey = `${strict ? 'strict' : 'open'}:${part}`;
            const known = compiled.get(cacheKey);
            if (known) return known;
            const ajv = strict ? responsesAjv : requestsAjv;
            try {
              const fn = ajv.getSchema(`${file}#/operations/${index}/${part}`);
              if (!fn) throw new Error('schema not found');
              compiled.set(cacheKey, fn);
              return fn;
            } catch (err) {
              throw new Error(`${file}: cannot compile the ${part} schema of ${label}: ${(err as Error).message}`);
            }
          },
        });
      }
    }
    adaptOpenApi30(root);
    opts.overrides?.(root, file);
    const strict = structuredClone(root);
    strictObjects(strict);
    requestsAjv.addSchema(root, file);
    responsesAjv.addSchema(strict, file);
  }

  const ordered = [...routes.values()].sort((a, b) => a.specificity.localeCompare(b.specificity));
  const find = (method: string, requestPath: string): Operation | undefined => {
    const segments = splitPath(requestPath.split('?')[0] ?? '');
    // OpenAPI: a concrete path wins over a templated one (/invoices/email, not /invoices/{invoice_id}), and
    // only then is the method looked up; so GET /invoices/email is no operation rather than get_invoice.
    const route = ordered.find(
      (r) => r.segments.length === segments.length && r.segments.every((s, i) => isTemplate(s) || fold(s) === fold(segments[i] ?? '')),
    );
    return route?.byMethod.get(method.toUpperCase());
  };

  return {
    operation(method, requestPath) {
      const op = find(method, requestPath);
      return op && { operationId: op.operationId, pathTemplate: op.pathTemplate };
    },
    validate(req, { strict = false } = {}) {
      const op = find(req.method, req.path);
      if (!op) return [`no operation ${req.method.toUpperCase()} ${req.path} in the ${opts.name}`];
      const violations = check(op.schema('query'), coerceQuery(req.query, op.queryParams), 'query');
      if (req.headers && op.headerParams.length > 0) {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
        violations.push(...check(op.schema('headers'), coerceQuery(headers, op.headerParams, headerKey), 'header'));
      }
      if (op.hasBody && req.body !== undefined) violations.push(...check(op.schema('body', strict), req.body, 'body'));
      return violations.map((v) => `${op.label}: ${v}`);
    },
    validateResponse(res) {
      const op = find(res.method, res.path);
      const status = String(res.status);
      if (!op || (res.status >= 400 && !(opts.checkErrorResponses && op.statuses.includes(status)))) return [];
      if (!op.statuses.includes(status)) {
        return [`${op.label}: response status ${status} is not in the contract (it documents ${op.statuses.join(', ') || 'none'})`];
      }
      return check(op.schema(`responses/${status}`), res.body, `response ${status} body`).map((v) => `${op.label}: ${v}`);
    },
  };
}
