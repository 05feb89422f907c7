// The schema the fake serves: contract/wave/schema.graphql, built with graphql-js, its custom scalars made
// strict (Date "YYYY-MM-DD", DateTime ISO-8601, Decimal a string — reference "Invoices"), so a wrong variable
// is BAD_USER_INPUT and a wrong literal GRAPHQL_VALIDATION_FAILED, as Wave answers them. The file is found from
// the repository root (sandbox/oas/parameters.ts repoRoot: works from the sources and from dist/).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, GraphQLError, GraphQLScalarType, Kind, type GraphQLSchema, type ValueNode } from 'graphql';
import { repoRoot } from '../oas/parameters.js';
import { isDecimal } from './money.js';

export const WAVE_SCHEMA_FILE = (): string => path.join(repoRoot(), 'contract', 'wave', 'schema.graphql');

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

export function isDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

export function isDateTime(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 40 && DATE_TIME.test(value) && !Number.isNaN(Date.parse(value));
}

interface ScalarRule {
  check: (v: unknown) => boolean;
  expect: string;
}

const RULES: Record<string, ScalarRule> = {
  Date: { check: isDate, expect: 'a date as "YYYY-MM-DD"' },
  DateTime: { check: isDateTime, expect: 'an ISO-8601 date and time with a zone ("2026-12-06T10:00:00Z")' },
  Decimal: { check: isDecimal, expect: 'a decimal number as a string ("150.00")' },
  URL: { check: (v) => typeof v === 'string' && /^https?:\/\/\S{1,2000}$/.test(v), expect: 'an absolute http(s) URL' },
};

function strict(scalar: GraphQLScalarType, rule: ScalarRule): void {
  const input = (value: unknown) => {
    if (!rule.check(value)) throw new GraphQLError(`${scalar.name} cannot represent ${JSON.stringify(value)?.slice(0, 60)}: expected ${rule.expect}.`);
    return value;
  };
  const literal = (node: ValueNode) => {
    if (node.kind !== Kind.STRING) throw new GraphQLError(`${scalar.name} cannot represent a non-string literal: expected ${rule.expect}.`);
    return input(node.value);
  };
  const output = (value: unknown) => {
    if (!rule.check(value)) throw new GraphQLError(`${scalar.name} cannot serialize ${JSON.stringify(value)?.slice(0, 60)}`);
    return value;
  };
  // graphql-js 17 reads coerceInputValue / coerceInputLiteral / coerceOutputValue; the legacy names stay in step.
  const s = scalar as unknown as Record<string, unknown>;
  s.coerceInputValue = input;
  s.parseValue = input;
  s.coerceInputLiteral = literal;
  s.parseLiteral = literal;
  s.coerceOutputValue = output;
  s.serialize = output;
}

export function loadWaveSchema(file = WAVE_SCHEMA_FILE()): GraphQLSchema {
  const schema = buildSchema(readFileSync(file, 'utf8'));
  for (const [name, rule] of Object.entries(RULES)) {
    const t = schema.getType(name);
    if (t instanceof GraphQLScalarType) strict(t, rule);
  }
  return schema;
}
