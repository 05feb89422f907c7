// The seam stays a seam: every backend in the registry is a folder whose names, settings and mapping section
// follow its ID, the registry is the one file that imports a backend's folder, and the files outside
// src/accounting/ that name a backend are the few the README counts.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allAccountingBackends } from '../../src/accounting/registry.js';

const root = resolve(import.meta.dirname, '../..');
const src = join(root, 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const backends = allAccountingBackends();
/** Every backend folder, registered or not (its name is a backend's ID). */
const folders = readdirSync(join(src, 'accounting'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);

describe('accounting backends', () => {
  it.each(backends.map((b) => [b.id, b] as const))('%s: one ID for its names, its settings, its mapping section and its folder', (id, backend) => {
    expect(backend.names.id).toBe(id);
    expect(backend.mapping.key).toBe(id);
    expect(folders).toContain(id);
    for (const setting of Object.keys(backend.settings.schema.shape)) expect(setting.startsWith(`${id.toUpperCase()}_`)).toBe(true);
  });

  it('only the registry imports a backend folder from outside the backends', () => {
    const importers = tsFiles(src)
      .filter((f) => !folders.some((name) => f.startsWith(join(src, 'accounting', name) + '/')))
      .filter((f) => folders.some((name) => new RegExp(`from '[./]*(accounting/)?${name}/`).test(readFileSync(f, 'utf8'))));
    expect(importers.map((f) => relative(root, f))).toEqual(['src/accounting/registry.ts']);
  });

  const naming = (names: string[]) =>
    tsFiles(src)
      .filter((f) => !f.startsWith(join(src, 'accounting') + '/'))
      .filter((f) => names.some((name) => readFileSync(f, 'utf8').toLowerCase().includes(name)))
      .map((f) => relative(root, f))
      .sort();

  it('the use cases name no backend at all', () => {
    expect(naming(folders).filter((f) => f.startsWith('src/sync/'))).toEqual([]);
  });

  it('outside src/accounting/, only the files the README counts name a backend (grep -rilE "zoho|xero|…" src | grep -v src/accounting/)', () => {
    // The project's old name as stored data (log field, encryption-key check value); nothing else names any backend.
    const named = naming(folders);
    expect(named).toEqual(['src/log.ts', 'src/security/key-check.ts']);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(`**${named.length}**, and **0** in the use cases`);
  });
});
