// The accounting backends the e2e suites run against: every backend the registry lists (a new one joins
// by itself once registered, and fails loudly until the sandbox has a fake of it). E2E_ACCOUNTING=zoho
// (comma-separated) narrows a run by hand.
import { ACCOUNTING_IDS, accountingBackend } from '../../src/accounting/registry.js';
import type { AccountingNames } from '../../src/sync/ports.js';
import { SANDBOX_ACCOUNTING, type SandboxAccounting } from '../../sandbox/scenario.js';

const wanted = process.env.E2E_ACCOUNTING?.split(',').map((s) => s.trim()).filter(Boolean);

function sandboxed(id: string): SandboxAccounting {
  if (!(SANDBOX_ACCOUNTING as readonly string[]).includes(id)) throw new Error(`the registry lists the accounting backend '${id}', but the sandbox has no fake of it (sandbox/scenario.ts)`);
  return id as SandboxAccounting;
}

export const ACCOUNTING_BACKENDS: SandboxAccounting[] = (ACCOUNTING_IDS as readonly string[]).filter((id) => !wanted || wanted.includes(id)).map(sandboxed);

/** The names the relay uses for a backend in its texts (notes, errors, CLI). */
export function namesOf(id: string): AccountingNames {
  const backend = accountingBackend(id);
  if (!backend) throw new Error(`no accounting backend '${id}' in the registry`);
  return backend.names;
}
