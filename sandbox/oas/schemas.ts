// Preparing a contract document for Ajv: the OpenAPI 3.0 dialect, the live-API overrides (listed in
// src/accounting/zoho/contract/overrides.ts, nothing else is relaxed) and, for responses, strict objects.
import { ID_OVERRIDE, SCHEMA_OVERRIDES } from '../../src/accounting/zoho/contract/overrides.js';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Calls `visit` on every object below `node`, with the key it sits under (a property name, for schemas). */
export function walk(node: unknown, visit: (key: string, schema: Json) => void, key = ''): void {
  if (Array.isArray(node)) node.forEach((child) => walk(child, visit, key));
  if (!isObject(node)) return;
  visit(key, node);
  for (const [k, child] of Object.entries(node)) walk(child, visit, k);
}

/** Follows a local `$ref` ('#/components/...') inside `doc`; anything else is returned as is. */
export function resolve(doc: Json, node: unknown): unknown {
  const ref = isObject(node) ? node.$ref : undefined;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return node;
  const parts = ref.slice(2).split('/').map((p) => decodeURIComponent(p).replace(/~1/g, '/').replace(/~0/g, '~'));
  return resolve(doc, parts.reduce<unknown>((at, part) => (isObject(at) ? at[part] : undefined), doc));
}

/** OpenAPI 3.0 schema dialect -> what Ajv compiles (ajv already understands `nullable` next to `type`). */
export function adaptOpenApi30(root: Json): void {
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

/**
 * Applies the live-API overrides. Properties are found under `properties` maps; a property's schema is
 * usually a $ref to a shared component, which is patched once (every use of it sees the same fix).
 */
export function applyOverrides(root: Json): void {
  const patched = new Set<Json>();
  const once = (schema: Json | undefined, patch: (s: Json) => void) => {
    if (!schema || patched.has(schema)) return;
    patched.add(schema);
    patch(schema);
  };
  const propertySchemas: Array<[string, Json]> = [];
  walk(root, (key, node) => {
    if (key !== 'properties') return;
    for (const [name, raw] of Object.entries(node)) {
      const schema = resolve(root, raw);
      if (isObject(schema)) propertySchemas.push([name, schema]);
    }
  });
  for (const override of SCHEMA_OVERRIDES) {
    const seen = new Set<Json>();
    for (const [name, schema] of propertySchemas) {
      if (name !== override.property || seen.has(schema)) continue;
      seen.add(schema);
      const target = override.items ? resolve(root, schema.items) : schema;
      if (isObject(target)) once(target, override.patch);
    }
  }
  for (const [name, schema] of propertySchemas) if (ID_OVERRIDE.applies(name, schema)) ID_OVERRIDE.patch(schema);
}

/**
 * For responses: an object schema that lists its properties allows no others, so an answer carrying a
 * property the contract does not document (e.g. `recurrence_id`) is a violation. Requests stay open, as
 * Zoho ignores unknown properties in what it is sent.
 */
export function strictObjects(root: Json): void {
  walk(root, (key, schema) => {
    if (key === 'properties' || key === 'examples' || key === 'enum') return;
    if (isObject(schema.properties) && schema.additionalProperties === undefined) schema.additionalProperties = false;
  });
}
