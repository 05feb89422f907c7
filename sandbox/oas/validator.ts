// Checks Zoho Books requests against Zoho's own OpenAPI 3.0 documents, so tests and the sandbox catch a
// request the real API would reject before it ever reaches Zoho.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';
import { parse } from 'yaml';

export interface OasRequest {
  method: string;
  /** Relative to the Books base URL /books/v3, e.g. '/invoices' or '/invoices/9834000000123456789/email'. */
  path: string;
  query: Record<string, unknown>;
  body: unknown;
}

export interface OasValidator {
  /** Human-readable violations, empty when the request conforms. */
  validate(req: OasRequest): string[];
  /** The matching operation, if any. */
  operation(method: string, path: string): { operationId: string; pathTemplate: string } | undefined;
}

type Json = Record<string, unknown>;

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
  /** Compiled on first use: most operations are never called, and compiling all of them costs start-up time. */
  validators: () => { query: ValidateFunction; body: ValidateFunction | undefined };
}

interface Route {
  segments: string[];
  /** One character per segment, '0' literal and '1' template: sorting on it tries literal segments first. */
  specificity: string;
  byMethod: Map<string, Operation>;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const isTemplate = (segment: string): boolean => /^\{[^}]+\}$/.test(segment);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const splitPath = (p: string): string[] => p.replace(/\/+$/, '').split('/');

/** `<repo root>/../shared/zoho-books-oas` (CI clones shared/ beside the repo), or $ZOHO_OAS_DIR. */
export function defaultOasDir(): string {
  const override = process.env.ZOHO_OAS_DIR;
  if (override) return path.resolve(override);
  return path.resolve(repoRoot(), '..', 'shared', 'zoho-books-oas');
}

// Searched upward because this file runs both from sandbox/oas/ (vitest) and from dist/sandbox/oas/ (compiled).
function repoRoot(): string {
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json in ${start} or above`);
  }
}

export async function loadZohoOas(dir: string = defaultOasDir()): Promise<OasValidator> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yml')).sort();
  if (files.length === 0) throw new Error(`no Zoho Books OAS documents (*.yml) in ${dir}`);

  const ajv = new Ajv({ strict: false, allErrors: true });
  ajvFormats.default(ajv);
  const routes = new Map<string, Route>();

  for (const file of files) {
    const doc = parse(await readFile(path.join(dir, file), 'utf8')) as Json;
    // One schema root per document: its $refs are local (#/components/...), and each document has its own
    // components, so the same name (e.g. `custom_fields`) can mean different things in two documents.
    const schemas: { query: Json; body: unknown }[] = [];
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
        const requestBody = resolve(doc, op.requestBody);
        const content = isObject(requestBody) && isObject(requestBody.content) ? requestBody.content : {};
        const bodySchema = isObject(content['application/json']) ? content['application/json'].schema : undefined;
        const index = schemas.push({ query: querySchema(queryParams), body: bodySchema }) - 1;

        const label = `${METHOD} ${pathTemplate} (${operationId})`;
        let compiled: ReturnType<Operation['validators']> | undefined;
        const get = (part: 'query' | 'body'): ValidateFunction => {
          try {
            const fn = ajv.getSchema(`${file}#/operations/${index}/${part}`);
            if (fn) return fn;
            throw new Error('schema not found');
          } catch (err) {
            throw new Error(`${file}: cannot compile the ${part} schema of ${label}: ${(err as Error).message}`);
          }
        };
        route.byMethod.set(METHOD, {
          operationId,
          pathTemplate,
          label,
          queryParams,
          hasBody: bodySchema !== undefined,
          validators: () =>
            (compiled ??= { query: get('query'), body: bodySchema === undefined ? undefined : get('body') }),
        });
      }
    }
    adaptOpenApi30(root);
    relaxKnownOverstrictness(root);
    ajv.addSchema(root, file);
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
      const { query, body } = op.validators();
      const violations = check(query, coerceQuery(req.query, op.queryParams), 'query');
      if (body && req.body !== undefined) violations.push(...check(body, req.body, 'body'));
      return violations.map((v) => `${op.label}: ${v}`);
    },
  };
}

/**
 * The places where we knowingly accept what Zoho's OAS rejects, each documented in
 * shared/reference/zoho-books.md as accepted by the live API. Nothing else is relaxed.
 */
function relaxKnownOverstrictness(root: Json): void {
  walk(root, (key, schema) => {
    // line_items[].item_id is marked required, but a line with name/rate/quantity and no item is accepted.
    if (key === 'line_items') requireOneOf(arrayItems(root, schema), 'item_id', ['item_id', 'name']);
    // Custom fields are documented by customfield_id only, while api_name and label are used widely.
    // (In today's documents no custom field requires customfield_id nor forbids other properties, so this
    // is a no-op that keeps api_name/label valid if a later version adds `required: [customfield_id]`.)
    if (key === 'custom_fields') {
      requireOneOf(arrayItems(root, schema), 'customfield_id', ['customfield_id', 'api_name', 'label']);
    }
  });
  // recurrence_frequency enumerates only `weeks`, while reference/zoho-books.md ("recurrence_frequency
  // (weeks, months, …)") and Zoho's own recurring-invoice screen offer days, weeks, months and years.
  const components = (root.components as Json | undefined)?.schemas as Json | undefined;
  const frequency = components?.recurrence_frequency as Json | undefined;
  if (frequency && Array.isArray(frequency.enum) && frequency.enum.length === 1 && frequency.enum[0] === 'weeks') {
    frequency.enum = ['days', 'weeks', 'months', 'years'];
  }
}

/** Replaces `required: [field]` with "at least one of `alternatives` is present". */
function requireOneOf(schema: Json | undefined, field: string, alternatives: string[]): void {
  if (!schema || !Array.isArray(schema.required) || !schema.required.includes(field)) return;
  schema.required = schema.required.filter((r) => r !== field);
  const allOf = Array.isArray(schema.allOf) ? schema.allOf : [];
  schema.allOf = [...allOf, { anyOf: alternatives.map((name) => ({ required: [name] })) }];
}

function arrayItems(root: Json, schema: unknown): Json | undefined {
  const array = resolve(root, schema);
  const items = isObject(array) ? resolve(root, array.items) : undefined;
  return isObject(items) ? items : undefined;
}

/** OpenAPI 3.0 schema dialect -> what Ajv compiles (ajv already understands `nullable` next to `type`). */
function adaptOpenApi30(root: Json): void {
  walk(root, (_key, schema) => {
    // OAS 3.0.3: `nullable` without `type` has no effect; Ajv would refuse to compile it.
    if (typeof schema.nullable === 'boolean' && schema.type === undefined) delete schema.nullable;
    // OAS 3.0 has draft-04 boolean exclusiveMinimum/Maximum; draft-07 (Ajv) wants the bound itself.
    for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
      if (typeof schema[flag] !== 'boolean') continue;
      if (schema[flag] && typeof schema[bound] === 'number') {
        schema[flag] = schema[bound];
        delete schema[bound];
      } else delete schema[flag];
    }
  });
}

/** Calls `visit` on every object below `node`, with the key it sits under (a property name, for schemas). */
function walk(node: unknown, visit: (key: string, schema: Json) => void, key = ''): void {
  if (Array.isArray(node)) node.forEach((child) => walk(child, visit, key));
  if (!isObject(node)) return;
  visit(key, node);
  for (const [k, child] of Object.entries(node)) walk(child, visit, k);
}

/** Follows a local `$ref` ('#/components/...') inside `doc`; anything else is returned as is. */
function resolve(doc: Json, node: unknown): unknown {
  const ref = isObject(node) ? node.$ref : undefined;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return node;
  const parts = ref.slice(2).split('/').map((p) => decodeURIComponent(p).replace(/~1/g, '/').replace(/~0/g, '~'));
  return resolve(doc, parts.reduce<unknown>((at, part) => (isObject(at) ? at[part] : undefined), doc));
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

function check(validate: ValidateFunction, data: unknown, where: 'query' | 'body'): string[] {
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  // The alternatives of an anyOf are reported once, inside the anyOf's own message.
  const branchesOf = (e: ErrorObject) =>
    errors.filter(
      (b) => b !== e && b.instancePath.startsWith(e.instancePath) && b.schemaPath.startsWith(`${e.schemaPath}/`),
    );
  const inBranch = new Set(errors.filter((e) => e.keyword === 'anyOf').flatMap(branchesOf));
  const describe = (e: ErrorObject): string => {
    const at = where + e.instancePath;
    if (e.keyword === 'required') return `${at}/${String(e.params.missingProperty)} is required`;
    if (e.keyword === 'enum') return `${at} must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
    if (e.keyword === 'anyOf') {
      return `${at} must satisfy one of: ${branchesOf(e).map((b) => describe(b).slice(at.length + 1)).join(' | ')}`;
    }
    return `${at} ${e.message ?? e.keyword}`;
  };
  return errors.filter((e) => !inBranch.has(e)).map(describe);
}
