// Reading an operation's parameters and payload schemas out of an OpenAPI document, and the text of a
// query string or header as the type a parameter declares.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isObject, resolve, type Json } from './schemas.js';

export interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  explode?: boolean;
  schema?: Json;
}

/** The application/json schema of a request body or response object. */
export function jsonSchemaOf(bodyOrResponse: unknown): unknown {
  const content = isObject(bodyOrResponse) && isObject(bodyOrResponse.content) ? bodyOrResponse.content : {};
  return isObject(content['application/json']) ? content['application/json'].schema : undefined;
}

/** Path-item parameters, overridden by the operation's own (same name and location). */
export function mergeParameters(doc: Json, ...lists: unknown[]): Parameter[] {
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

/** An object schema over the parameters; `name` maps a parameter's name to its key (headers: lower case). */
export function parametersSchema(params: Parameter[], name: (p: Parameter) => string = (p) => p.name): Json {
  return {
    type: 'object',
    properties: Object.fromEntries(params.map((p) => [name(p), p.schema ?? {}])),
    required: params.filter((p) => p.required).map(name),
  };
}

/**
 * A query string carries only text: read 'true'/'false' and numerals as the type the parameter declares,
 * and an array parameter as its style says (form, explode=false: 'a,b'; exploded: the key repeated).
 */
export function coerceQuery(query: Record<string, unknown>, params: Parameter[], name: (p: Parameter) => string = (p) => p.name): Record<string, unknown> {
  const out = { ...query };
  for (const p of params) {
    const key = name(p);
    const value = out[key];
    const schema = p.schema;
    if (schema?.type === 'array' && value !== undefined) {
      const parts = Array.isArray(value) ? value : [value];
      out[key] = p.explode === false ? parts.flatMap((v) => String(v).split(',')) : parts;
      continue;
    }
    if (typeof value !== 'string') continue;
    if (schema?.type === 'boolean' && (value === 'true' || value === 'false')) out[key] = value === 'true';
    if ((schema?.type === 'integer' || schema?.type === 'number') && /^-?\d+(\.\d+)?$/.test(value)) {
      out[key] = Number(value);
    }
  }
  return out;
}

// Searched upward because this file runs both from sandbox/oas/ (vitest) and from dist/sandbox/oas/ (compiled).
export function repoRoot(): string {
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json in ${start} or above`);
  }
}
