// Ajv's errors as short sentences naming the JSON path: 'body/line_items/0/rate must be number'.
import type { ErrorObject, ValidateFunction } from 'ajv';

/** `where` prefixes every path: 'query', 'body' or 'response 201 body'. */
export function check(validate: ValidateFunction, data: unknown, where: string): string[] {
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
    if (e.keyword === 'additionalProperties') return `${at}/${String(e.params.additionalProperty)} is not in the contract`;
    if (e.keyword === 'anyOf') {
      return `${at} must satisfy one of: ${branchesOf(e).map((b) => describe(b).slice(at.length + 1)).join(' | ')}`;
    }
    return `${at} ${e.message ?? e.keyword}`;
  };
  return errors.filter((e) => !inBranch.has(e)).map(describe);
}
