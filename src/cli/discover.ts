// `relay discover`: what exists on both sides, with IDs — Kommo pipelines and stages, deal and contact
// fields, the products catalog's fields; the accounting backend's organizations, taxes and currencies —
// and a starter mapping file built from it (see starter-mapping.ts), printed or written with --out.
import { existsSync, writeFileSync } from 'node:fs';
import { loadMappingFile } from '../config/mapping.js';
import type { KommoAccount, KommoFieldDefinition } from '../kommo/types.js';
import type { Args } from './args.js';
import type { CliContext } from './context.js';
import { table } from './format.js';
import { readKommoCatalogue, type FullCatalogue } from './kommo-catalogue.js';
import { starterMapping, type StarterMapping } from './starter-mapping.js';

export async function discover(ctx: CliContext, args: Args): Promise<number> {
  const { kommo, accounting, backend } = await ctx.clients();
  const account = await kommo.getAccount();
  const catalogue = await readKommoCatalogue(kommo, { contact: true, company: false, products: true });
  const found = await accounting.discover(existingSection(ctx));
  const starter = starterMapping({
    pipelines: catalogue.pipelines,
    leadFields: catalogue.leadFields,
    contactFields: catalogue.contactFields ?? [],
    accountCountry: account.country,
    taxes: found.taxes,
  });
  const out = args.options.get('out');
  if (out) {
    if (existsSync(out) && !args.flags.has('force')) {
      ctx.io.err(`${out} exists already: pass --force to replace it, or choose another file.`);
      return 1;
    }
    writeFileSync(out, `${JSON.stringify(starter.mapping, null, 2)}\n`);
  }
  if (args.flags.has('json')) {
    ctx.io.out(JSON.stringify({ kommo: { account, ...catalogue }, [backend.names.id]: found.json, mapping: starter.mapping, todo: starter.todo }, null, 2));
    return 0;
  }
  ctx.io.out([...kommoSection(account, catalogue), '', ...found.lines, '', ...starterSection(starter, out)].join('\n'));
  return 0;
}

/** The backend's section of the mapping file when there is a valid one already (discover runs before one exists too). */
function existingSection(ctx: CliContext): { section?: unknown } {
  try {
    const env = ctx.settings();
    if (!existsSync(env.MAPPING_FILE)) return {};
    return { section: loadMappingFile(env.MAPPING_FILE, env.accounting.backend).accounting };
  } catch {
    return {};
  }
}

function fieldRows(fields: KommoFieldDefinition[]): string[] {
  if (fields.length === 0) return ['  (none)'];
  return table(fields.map((f) => [f.name, f.type, `id ${f.id}`, f.code ? `code ${f.code}` : '']));
}

function kommoSection(account: KommoAccount, c: FullCatalogue): string[] {
  const lines = [`Kommo account "${account.name ?? account.subdomain}" (id ${account.id}, subdomain ${account.subdomain}${account.country ? `, country ${account.country}` : ''}${account.currency ? `, currency ${account.currency}` : ''})`, '', 'Pipelines and stages'];
  for (const p of c.pipelines) {
    lines.push(`  ${p.name} (id ${p.id})`);
    lines.push(...table(p._embedded.statuses.map((s) => [s.name, `id ${s.id}`]), 4));
  }
  lines.push('', 'Deal (lead) fields', ...fieldRows(c.leadFields), '', 'Contact fields', ...fieldRows(c.contactFields ?? []));
  lines.push('', c.productsCatalog ? `Products catalog "${c.productsCatalog.name}" (id ${c.productsCatalog.id}) fields` : 'Products catalog: none');
  if (c.productsCatalog) lines.push(...fieldRows(c.productFields ?? []));
  return lines;
}

function starterSection(s: StarterMapping, out: string | undefined): string[] {
  return [
    out ? `Starter mapping written to ${out}:` : 'Starter mapping (save it as mapping.json, or run `relay discover --out mapping.json`):',
    JSON.stringify(s.mapping, null, 2),
    '',
    'Before you use it:',
    ...s.todo.map((t) => `  - ${t}`),
    '  - Then run `relay check`.',
  ];
}
