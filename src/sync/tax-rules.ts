// The mapping's tax rules -> the accounting system's tax IDs, when its reference data is read. Tax IDs
// differ per organization, so the mapping names taxes (or percentages, or exemptions) and this turns them
// into IDs; a rule that matches no tax, or several, is a start-up error listing the organization's taxes.
import { ConfigError } from '../config/config-error.js';
import type { Mapping, TaxRule } from '../config/mapping.js';
import { normaliseCountry } from './country.js';
import type { AccountingReference } from './ports.js';

export type CustomerTaxFields = Record<string, string | boolean>;

export type ResolvedTaxRule =
  | { kind: 'tax'; taxId: string; label: string; percentage: number; customerFields: CustomerTaxFields }
  | { kind: 'exempt'; exemptionId: string; label: string; customerFields: CustomerTaxFields }
  | { kind: 'none'; customerFields: CustomerTaxFields };

/** Keys are ISO country codes, or '*' for every other country. */
export type TaxRules = Map<string, ResolvedTaxRule>;

/** `system`: the accounting system's name, for the messages ("no tax named 'VAT' in <system>"). */
export function resolveTaxRules(tax: Mapping['tax'], ref: Pick<AccountingReference, 'taxes' | 'exemptions' | 'noTaxId'>, system: string): TaxRules {
  const problems: string[] = [];
  const rules: TaxRules = new Map();
  const taxList = ref.taxes.map((t) => `'${t.name}' (${t.percentage} %)`).join(', ') || 'none';
  if (tax.defaultCountry !== undefined && !normaliseCountry(tax.defaultCountry)) {
    problems.push(`MAPPING_FILE tax.defaultCountry: '${tax.defaultCountry}' is not a country; use an ISO code such as DE or an English name.`);
  }
  for (const [key, rule] of Object.entries(tax.rules)) {
    const where = `MAPPING_FILE tax.rules.${key}`;
    const country = key === '*' ? '*' : normaliseCountry(key);
    if (!country) {
      problems.push(`${where}: '${key}' is not a country; use an ISO code such as DE, a country name, or "*" for all others.`);
      continue;
    }
    if (rules.has(country)) {
      problems.push(`${where}: ${country} already has a rule (two keys name the same country).`);
      continue;
    }
    try {
      rules.set(country, resolveRule(rule, ref, taxList, system));
    } catch (e) {
      problems.push(`${where}: ${(e as Error).message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return rules;
}

function resolveRule(rule: TaxRule, ref: Pick<AccountingReference, 'taxes' | 'exemptions' | 'noTaxId'>, taxList: string, system: string): ResolvedTaxRule {
  const customerFields = rule === 'none' ? {} : (rule.customer ?? {});
  if (rule === 'none' || 'none' in rule) {
    // A system that taxes an untaxed line by default gets its own "no tax" on the lines.
    const noTax = ref.noTaxId !== undefined ? ref.taxes.find((t) => t.id === ref.noTaxId) : undefined;
    return noTax ? { kind: 'tax', taxId: noTax.id, label: noTax.name, percentage: noTax.percentage, customerFields } : { kind: 'none', customerFields };
  }
  if ('exemption' in rule) {
    const found = ref.exemptions.filter((e) => same(e.name, rule.exemption));
    if (found.length !== 1) {
      const list = ref.exemptions.map((e) => `'${e.name}'`).join(', ') || 'none';
      throw new Error(`${found.length ? 'several' : 'no'} tax exemptions named '${rule.exemption}' in ${system}. Exemptions: ${list}`);
    }
    return { kind: 'exempt', exemptionId: found[0]!.id, label: found[0]!.name, customerFields };
  }
  if ('tax' in rule) {
    // By name; else by the system's own code for it (a name wins, so a code never shadows a tax so named).
    const byName = ref.taxes.filter((t) => same(t.name, rule.tax));
    const found = byName.length ? byName : ref.taxes.filter((t) => t.code !== undefined && t.code === rule.tax.trim());
    if (found.length === 0) throw new Error(`no tax named '${rule.tax}' in ${system}. Taxes: ${taxList}`);
    if (found.length > 1) throw new Error(`several taxes are named '${rule.tax}' in ${system}; rename one of them there.`);
    return { kind: 'tax', taxId: found[0]!.id, label: found[0]!.name, percentage: found[0]!.percentage, customerFields };
  }
  const found = ref.taxes.filter((t) => Math.abs(t.percentage - rule.percentage) < 1e-9);
  if (found.length === 0) throw new Error(`no tax of ${rule.percentage} % in ${system}. Taxes: ${taxList}`);
  if (found.length > 1) throw new Error(`several taxes are ${rule.percentage} % (${found.map((t) => `'${t.name}'`).join(', ')}); name one with { "tax": "..." }.`);
  return { kind: 'tax', taxId: found[0]!.id, label: found[0]!.name, percentage: found[0]!.percentage, customerFields };
}

function same(a: string, b: string): boolean {
  return a.trim().toLocaleLowerCase() === b.trim().toLocaleLowerCase();
}
