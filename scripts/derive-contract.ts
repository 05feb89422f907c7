// Derives the committed vendor contract from the vendors' published OpenAPI documents: facts only (paths,
// methods, operationIds, parameters, request and response schemas, enums, required, types, formats), no
// prose, keys sorted, so a re-run over the same documents gives the same bytes. Also generates the
// TypeScript types of both contracts (Zoho Books, Xero) with openapi-typescript.
//
//   npm run contract                     reads ../shared/{zoho-books-oas,xero-oas} beside the repository
//   OAS_SOURCE_DIR=/x npm run contract   reads /x/{zoho-books-oas,xero-oas}
//   node scripts/derive-contract.ts --out <dir>   writes under <dir> instead of the repository (the
//                                                 currency test compares such a copy with the committed one)
//
// Runs with Node's type stripping (erasable syntax only: no enums, no parameter properties).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import { parse } from 'yaml';

type Json = Record<string, unknown>;

/** The Xero accounting paths a Xero backend of the relay needs; the rest of the 900 KB document is left out. */
export const XERO_ACCOUNTING_PATHS = [
  '/Accounts',
  '/Accounts/{AccountID}',
  '/BrandingThemes',
  '/BrandingThemes/{BrandingThemeID}',
  '/BrandingThemes/{BrandingThemeID}/PaymentServices',
  '/Contacts',
  '/Contacts/{ContactID}',
  '/Currencies',
  '/Invoices',
  '/Invoices/{InvoiceID}',
  '/Invoices/{InvoiceID}/Email',
  '/Invoices/{InvoiceID}/OnlineInvoice',
  '/Organisation',
  '/Payments',
  '/Payments/{PaymentID}',
  '/RepeatingInvoices',
  '/RepeatingInvoices/{RepeatingInvoiceID}',
  '/TaxRates',
];

/** Where generated files go, relative to the output root. */
export const ZOHO_CONTRACT_DIR = 'contract/zoho-books';
export const XERO_CONTRACT_DIR = 'contract/xero';
export const ZOHO_TYPES_DIR = 'src/accounting/zoho/contract';
export const XERO_TYPES_DIR = 'src/accounting/xero/contract';
/** Hand-written files living beside the generated types (in either types folder). */
export const HAND_WRITTEN = new Set(['overrides.ts']);

const PROSE = new Set(['description', 'summary', 'tags', 'example', 'examples', 'externalDocs', 'title', 'termsOfService', 'contact', 'license']);
const DROPPED_AT_ROOT = new Set(['servers', 'tags', 'x-tagGroups']);
/** Keys whose value maps names (of properties, paths, status codes, media types, components) to objects. */
const NAME_MAPS = new Set([
  'properties', 'patternProperties', 'paths', 'webhooks', 'responses', 'content', 'headers', 'encoding',
  'schemas', 'parameters', 'requestBodies', 'securitySchemes', 'links', 'callbacks', 'pathItems', 'definitions', '$defs', 'mapping',
]);
/** Values taken as they are: data, not schema (a default may be an object with a `description` key). */
const VERBATIM = new Set(['default', 'enum', 'const', 'required']);

/** Removes prose and vendor extensions, sorts keys. Under a NAME_MAPS key, `node`'s keys are names
 * (a property may well be called `description`); anywhere else they are OpenAPI keywords. */
export function factsOnly(node: unknown, parentKey = ''): unknown {
  if (Array.isArray(node)) return node.map((child) => factsOnly(child));
  if (!isObject(node)) return node;
  const keysAreNames = NAME_MAPS.has(parentKey);
  const out: Json = {};
  for (const key of Object.keys(node).sort()) {
    const value = node[key];
    if (keysAreNames) {
      out[key] = factsOnly(value);
      continue;
    }
    if (key.startsWith('x-') || PROSE.has(key)) continue;
    if (key === 'scopes' && isObject(value)) {
      // OAuth scope names are facts; their descriptions are prose.
      out[key] = Object.fromEntries(Object.keys(value).sort().map((s) => [s, '']));
    } else if (VERBATIM.has(key)) out[key] = sortKeys(value);
    else out[key] = factsOnly(value, key);
  }
  return out;
}

function sortKeys(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(sortKeys);
  if (!isObject(node)) return node;
  return Object.fromEntries(Object.keys(node).sort().map((k) => [k, sortKeys(node[k])]));
}

/** Keeps only the components some path (or webhook) reaches, directly or through other components. */
export function pruneComponents(doc: Json): Json {
  const components = isObject(doc.components) ? doc.components : {};
  const reached = new Set<string>();
  const pending: unknown[] = [doc.paths, doc.webhooks];
  while (pending.length > 0) {
    for (const ref of localRefs(pending.pop())) {
      if (reached.has(ref)) continue;
      reached.add(ref);
      const [, section, name] = ref.split('/').map(unescapePointer);
      const target = isObject(components[section!]) ? (components[section!] as Json)[name!] : undefined;
      if (target === undefined) throw new Error(`unresolvable $ref ${ref}`);
      pending.push(target);
    }
  }
  const kept: Json = {};
  for (const [section, entries] of Object.entries(components)) {
    if (!isObject(entries)) continue;
    // Security schemes are named by security requirements, not by $ref: keep them all.
    const names = Object.keys(entries).filter((n) => section === 'securitySchemes' || reached.has(`components/${section}/${escapePointer(n)}`));
    if (names.length > 0) kept[section] = Object.fromEntries(names.map((n) => [n, entries[n]]));
  }
  return { ...doc, components: kept };
}

function localRefs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((child) => localRefs(child, found));
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') {
        if (!v.startsWith('#/components/')) throw new Error(`only local component $refs are supported, found ${v}`);
        found.push(v.slice(2));
      } else localRefs(v, found);
    }
  }
  return found;
}

const unescapePointer = (p: string) => decodeURIComponent(p).replace(/~1/g, '/').replace(/~0/g, '~');
const escapePointer = (p: string) => p.replace(/~/g, '~0').replace(/\//g, '~1');
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One published document -> its contract: the document's facts, with only the reachable components. */
export function contractOf(raw: Json, keepPaths?: readonly string[]): Json {
  const doc: Json = {};
  for (const key of Object.keys(raw)) if (!DROPPED_AT_ROOT.has(key) && !key.startsWith('x-')) doc[key] = raw[key];
  const info = isObject(raw.info) ? raw.info : {};
  doc.info = { title: String(info.title ?? ''), version: String(info.version ?? '') };
  if (keepPaths) {
    const paths = isObject(raw.paths) ? raw.paths : {};
    const missing = keepPaths.filter((p) => !(p in paths));
    if (missing.length > 0) throw new Error(`the document has no path ${missing.join(', ')}`);
    doc.paths = Object.fromEntries(keepPaths.map((p) => [p, paths[p]]));
  }
  const facts = factsOnly(pruneComponents(doc)) as Json;
  // The title is the document's name ("Invoices"); kept because OpenAPI requires `info.title`.
  facts.info = doc.info;
  return facts;
}

export const toJsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

interface Written {
  /** Relative to the output root, '/'-separated. */
  files: string[];
}

export async function deriveContract(sourceRoot: string, outRoot: string): Promise<Written> {
  const zohoSource = path.join(sourceRoot, 'zoho-books-oas');
  const xeroSource = path.join(sourceRoot, 'xero-oas');
  for (const dir of [zohoSource, xeroSource]) if (!existsSync(dir)) throw new Error(`no vendor OpenAPI documents at ${dir}`);
  const files: string[] = [];
  const write = async (rel: string, text: string) => {
    await mkdir(path.dirname(path.join(outRoot, rel)), { recursive: true });
    await writeFile(path.join(outRoot, rel), text);
    files.push(rel);
  };

  await rm(path.join(outRoot, ZOHO_CONTRACT_DIR), { recursive: true, force: true });
  await rm(path.join(outRoot, XERO_CONTRACT_DIR), { recursive: true, force: true });
  await removeGeneratedTypes(path.join(outRoot, ZOHO_TYPES_DIR));
  await removeGeneratedTypes(path.join(outRoot, XERO_TYPES_DIR));

  for (const file of (await readdir(zohoSource)).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const module = file.replace(/\.ya?ml$/, '');
    const contract = contractOf(parse(await readFile(path.join(zohoSource, file), 'utf8')) as Json);
    await write(`${ZOHO_CONTRACT_DIR}/${module}.json`, toJsonText(contract));
    await write(`${ZOHO_TYPES_DIR}/${module}.ts`, await typesOf(contract, `${ZOHO_CONTRACT_DIR}/${module}.json`));
  }

  const xero: Array<[string, string, readonly string[] | undefined]> = [
    ['xero_accounting.yaml', 'accounting', XERO_ACCOUNTING_PATHS],
    ['xero-identity.yaml', 'identity', undefined],
    ['xero-webhooks.yaml', 'webhooks', undefined],
  ];
  for (const [file, module, keep] of xero) {
    const raw = parse(await readFile(path.join(xeroSource, file), 'utf8'), { maxAliasCount: -1 }) as Json;
    const contract = contractOf(raw, keep);
    await write(`${XERO_CONTRACT_DIR}/${module}.json`, toJsonText(contract));
    await write(`${XERO_TYPES_DIR}/${module}.ts`, await typesOf(contract, `${XERO_CONTRACT_DIR}/${module}.json`));
  }
  // Xero publishes its documents under the MIT licence, which asks that the notice travel with them.
  await write(`${XERO_CONTRACT_DIR}/LICENSE`, await readFile(path.join(xeroSource, 'LICENSE'), 'utf8'));
  return { files: files.sort() };
}

async function removeGeneratedTypes(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const f of await readdir(dir)) if (!HAND_WRITTEN.has(f)) await rm(path.join(dir, f), { force: true });
}

/**
 * A $ref into the inside of a component (Xero's webhooks document points at
 * `#/components/schemas/WebhookEvent/properties/events/items`) becomes, in openapi-typescript's output, an
 * index into an array type that does not compile: for the types only, such a ref is replaced by a copy of
 * what it points at. Refs to whole components are left to openapi-typescript.
 */
export function inlineDeepRefs(doc: Json): Json {
  const copy = structuredClone(doc);
  const visit = (node: unknown, depth: number): unknown => {
    if (depth > 64) throw new Error('a $ref cycle through the inside of a component');
    if (Array.isArray(node)) return node.map((child) => visit(child, depth));
    if (!isObject(node)) return node;
    const ref = node.$ref;
    if (typeof ref === 'string' && ref.startsWith('#/components/') && ref.split('/').length > 4) {
      const target = ref.slice(2).split('/').map(unescapePointer).reduce<unknown>((at, key) => (isObject(at) ? at[key] : undefined), copy);
      if (target === undefined) throw new Error(`unresolvable $ref ${ref}`);
      return visit(structuredClone(target), depth + 1);
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, visit(v, depth)]));
  };
  return visit(copy, 0) as Json;
}

async function typesOf(contract: Json, from: string): Promise<string> {
  const ast = await openapiTS(inlineDeepRefs(contract) as unknown as Parameters<typeof openapiTS>[0], { silent: true });
  const header = `// Generated by scripts/derive-contract.ts (npm run contract) with openapi-typescript from ${from}.\n// Do not edit: regenerate. Where the live API differs from the document, see overrides.ts.\n\n`;
  return header + astToString(ast);
}

function repoRoot(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const outRoot = outAt >= 0 && args[outAt + 1] ? path.resolve(args[outAt + 1]!) : repoRoot();
  const sourceRoot = path.resolve(process.env.OAS_SOURCE_DIR ?? path.join(repoRoot(), '..', 'shared'));
  const { files } = await deriveContract(sourceRoot, outRoot);
  console.log(`derived ${files.length} files from ${sourceRoot} into ${outRoot}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
