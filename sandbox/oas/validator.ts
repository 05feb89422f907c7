// Checks Zoho Books traffic against the contract the repository carries (contract/zoho-books, derived from
// Zoho's own OpenAPI 3.0 documents by scripts/derive-contract.ts): requests as Zoho would read them, and
// the fake's responses strictly, so neither the relay nor the fake can drift from what Zoho publishes.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { check } from './report.js';
import { adaptOpenApi30, applyOverrides, isObject, resolve, strictObjects, type Json } from './schemas.js';

export interface OasRequest {
  method: string;
  /** Relative to the Books base URL /books/v3, e.g. '/invoices' or '/invoices/9834000000123456789/email'. */
  path: string;
  query: Record<string, unknown>;
  body: unknown;
}

export interface OasResponse {
  method: string;
  path: string;
  status: number;
  body: unknown;
}

export interface OasValidator {
  /** Human-readable violations, empty when the request conforms. */
  validate(req: OasRequest): string[];
  /**
   * Violations of a response: a property the response schema does not document is one. Error answers
   * (4xx, 5xx) are not documented by these documents and are not checked; an undocumented 2xx status is.
   */
  validateResponse(res: OasResponse): string[];
  /** The matching operation, if any. */
  operation(method: string, path: string): { operationId: string; pathTemplate: string } | undefined;
}

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Json;
}

interface Operation {
  operationId: string;
  pathTemplate: string;
  /** 'POST /invoices (create_invoice)', the prefix of every violation. */
  label: string;
  queryParams: Parameter[];
  hasBody: boolean;
  statuses: string[];
  /** Compiled on first use: most operations are never called, and compiling all of them costs start-up time. */
  schema(part: 'query' | 'body' | `responses/${string}`): ValidateFunction;
}

interface Route {
  segments: string[];
  /** One character per segment, '0' literal and '1' template: sorting on it tries literal segments first. */
  specificity: string;
  byMethod: Map<string, Operation>;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const isTemplate = (segment: string): boolean => /^\{[^}]+\}$/.test(segment);
const splitPath = (p: string): string[] => p.replace(/\/+$/, '').split('/');

/** `<repo root>/contract/zoho-books`, the committed contract. */
export function defaultContractDir(): string {
  return path.join(repoRoot(), 'contract', 'zoho-books');
}

// Searched upward because this file runs both from sandbox/oas/ (vitest) and from dist/sandbox/oas/ (compiled).
function repoRoot(): string {
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json in ${start} or above`);
  }
}

export async function loadZohoOas(dir: string = defaultContractDir()): Promise<OasValidator> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) throw new Error(`no Zoho Books contract documents (*.json) in ${dir}`);

  const newAjv = () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajvFormats.default(ajv);
    return ajv;
  };
  const requestsAjv = newAjv();
  const responsesAjv = newAjv();
  const routes = new Map<string, Route>();

  for (const file of files) {
    const doc = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as Json;
    // One schema root per document: its $refs are local (#/components/...), and each document has its own
    // components, so the same name (e.g. `custom_fields`) can mean different things in two documents.
    const schemas: { query: Json; body: unknown; responses: Record<string, unknown> }[] = [];
    const root = { components: doc.components ?? {}, operations: schemas };

    for (const [pathTemplate, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
      const segments = splitPath(pathTemplate);
      const key = segments.map((s) => (isTemplate(s) ? '{}' : s)).join('/');
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

        const queryParams = mergeParameters(doc, item.parameters, op.parameters).filter((p) => p.in === 'query');
        const bodySchema = jsonSchemaOf(resolve(doc, op.requestBody));
        const responses = Object.fromEntries(
          Object.entries(isObject(op.responses) ? op.responses : {})
            .map(([status, response]) => [status, jsonSchemaOf(resolve(doc, response))] as const)
            .filter(([, schema]) => schema !== undefined),
        );
        const index = schemas.push({ query: querySchema(queryParams), body: bodySchema, responses }) - 1;

        const label = `${METHOD} ${pathTemplate} (${operationId})`;
        const compiled = new Map<string, ValidateFunction>();
        route.byMethod.set(METHOD, {
          operationId,
          pathTemplate,
          label,
          queryParams,
          hasBody: bodySchema !== undefined,
          statuses: Object.keys(responses),
          schema(part: 'query' | 'body' | `responses/${string}`) {
            const known = compiled.get(part);
            if (known) return known;
            const ajv = part.startsWith('responses/') ? responsesAjv : requestsAjv;
            try {
              const fn = ajv.getSchema(`${file}#/operations/${index}/${part}`);
              if (!fn) throw new Error('schema not found');
              compiled.set(part, fn);
              return fn;
            } catch (err) {
              throw new Error(`${file}: cannot compile the ${part} schema of ${label}: ${(err as Error).message}`);
            }
          },
        });
      }
    }
    adaptOpenApi30(root);
    applyOverrides(root);
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
      (r) => r.segments.length === segments.length && r.segments.every((s, i) => isTemplate(s) || s === segments[i]),
    );
    return route?.byMethod.get(method.toUpperCase());
  };

  return {
    operation(method, requestPath) {
      const op = find(method, requestPath);
      return op && { operationId: op.operationId, pathTemplate: op.pathTemplate };
    },
    validate(req) {
      const op = find(req.method, req.path);
      if (!op) return [`no operation ${req.method.toUpperCase()} ${req.path} in the Zoho Books OAS`];
      const violations = check(op.schema('query'), coerceQuery(req.query, op.queryParams), 'query');
      if (op.hasBody && req.body !== undefined) violations.push(...check(op.schema('body'), req.body, 'body'));
      return violations.map((v) => `${op.label}: ${v}`);
    },
    validateResponse(res) {
      const op = find(res.method, res.path);
      if (!op || res.status >= 400) return [];
      const status = String(res.status);
      if (!op.statuses.includes(status)) {
        return [`${op.label}: response status ${status} is not in the contract (it documents ${op.statuses.join(', ') || 'none'})`];
      }
      return check(op.schema(`responses/${status}`), res.body, `response ${status} body`).map((v) => `${op.label}: ${v}`);
    },
  };
}

/** The application/json schema of a request body or response object. */
function jsonSchemaOf(bodyOrResponse: unknown): unknown {
  const content = isObject(bodyOrResponse) && isObject(bodyOrResponse.content) ? bodyOrResponse.content : {};
  return isObject(content['application/json']) ? content['application/json'].schema : undefined;
}

/** Path-item parameters, overridden by the operation's own (same name and location). */
function mergeParameters(doc: Json, ...lists: unknown[]): Parameter[] {
  const byKey = new Map<string, Parameter>();
  for (const list of lists) {
    for (const raw of Array.isArray(list) ? list : []) {
      const p = resolve(doc, raw);
      if (isObject(p) && typeof p.name === 'string' && typeof p.in === 'string') {
        byKey.set(`${p.in}:${p.name}`, p as unknown as Parameter);
      }
    }
  }
  return [...byKey.values()];
}

function querySchema(params: Parameter[]): Json {
  return {
    type: 'object',
    properties: Object.fromEntries(params.map((p) => [p.name, p.schema ?? {}])),
    required: params.filter((p) => p.required).map((p) => p.name),
  };
}

/** A query string carries only text: read 'true'/'false' and numerals as the type the parameter declares. */
function coerceQuery(query: Record<string, unknown>, params: Parameter[]): Record<string, unknown> {
  const out = { ...query };
  for (const { name, schema } of params) {
    const value = out[name];
    if (typeof value !== 'string') continue;
    if (schema?.type === 'boolean' && (value === 'true' || value === 'false')) out[name] = value === 'true';
    if ((schema?.type === 'integer' || schema?.type === 'number') && /^-?\d+(\.\d+)?$/.test(value)) {
      out[name] = Number(value);
    }
  }
  return out;
}
