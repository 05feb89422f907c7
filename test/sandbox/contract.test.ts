// The committed contract (contract/, and the types generated from it in src/accounting/zoho/contract/ and
// src/accounting/xero/contract/) is what
// scripts/derive-contract.ts makes of the vendors' published documents today. The documents live beside the
// repository (../shared) on the project's own machines and CI, not in a user's clone: there the test is
// skipped, saying why.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const sources = path.resolve(root, '..', 'shared');
const present = ['zoho-books-oas', 'xero-oas'].every((d) => existsSync(path.join(sources, d)));
const GENERATED = ['contract/zoho-books', 'contract/xero', 'src/accounting/zoho/contract', 'src/accounting/xero/contract'];
const HAND_WRITTEN = new Set(['src/accounting/zoho/contract/overrides.ts', 'src/accounting/xero/contract/overrides.ts']);

async function filesUnder(base: string): Promise<string[]> {
  const out: string[] = [];
  for (const dir of GENERATED) {
    if (!existsSync(path.join(base, dir))) continue;
    for (const f of await readdir(path.join(base, dir))) {
      const rel = `${dir}/${f}`;
      if (!HAND_WRITTEN.has(rel)) out.push(rel);
    }
  }
  return out.sort();
}

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true })));
});

describe('the committed contract', () => {
  it.skipIf(!present)(
    `is current: npm run contract over ${present ? sources : 'the vendor documents'} gives the committed bytes` +
      (present ? '' : ' (skipped: no ../shared/zoho-books-oas and ../shared/xero-oas beside this clone)'),
    async () => {
      const out = await mkdtemp(path.join(tmpdir(), 'contract-'));
      temps.push(out);
      await promisify(execFile)(process.execPath, [path.join(root, 'scripts', 'derive-contract.ts'), '--out', out], {
        env: { ...process.env, OAS_SOURCE_DIR: sources },
      });
      const derived = await filesUnder(out);
      expect(derived.length).toBeGreaterThan(10);
      // Same files, no stale ones left in the repository...
      expect(await filesUnder(root)).toEqual(derived);
      // ...and the same bytes. A difference means: run `npm run contract` and commit what it changed.
      for (const rel of derived) {
        const [fresh, committed] = await Promise.all([readFile(path.join(out, rel), 'utf8'), readFile(path.join(root, rel), 'utf8')]);
        expect(committed === fresh, `${rel} differs from a fresh derivation: run npm run contract`).toBe(true);
      }
    },
    120_000,
  );

  it('carries no prose: no description, summary, example or x- extension as an OpenAPI keyword', async () => {
    for (const rel of (await filesUnder(root)).filter((f) => f.endsWith('.json'))) {
      const doc = JSON.parse(await readFile(path.join(root, rel), 'utf8')) as unknown;
      const found: string[] = [];
      const visit = (node: unknown, keysAreNames: boolean, at: string): void => {
        if (Array.isArray(node)) return node.forEach((n, i) => visit(n, false, `${at}/${i}`));
        if (typeof node !== 'object' || node === null) return;
        for (const [k, v] of Object.entries(node)) {
          if (!keysAreNames && (/^(description|summary|examples?|tags|servers)$/.test(k) || k.startsWith('x-'))) found.push(`${at}/${k}`);
          visit(v, !keysAreNames && NAME_MAPS.has(k), `${at}/${k}`);
        }
      };
      visit(doc, false, rel);
      expect(found).toEqual([]);
    }
  });
});

/** Keys whose values map names (properties, paths, status codes…) to objects: a property may be called `description`. */
const NAME_MAPS = new Set([
  'properties', 'patternProperties', 'paths', 'webhooks', 'responses', 'content', 'headers', 'encoding', 'schemas',
  'parameters', 'requestBodies', 'securitySchemes', 'links', 'callbacks', 'pathItems', 'mapping', 'scopes',
]);
