// Every document the Wave client sends is valid against the contract (contract/wave/schema.graphql) and uses
// no deprecated field or input field: a document Wave would refuse (GRAPHQL_VALIDATION_FAILED) fails here.
import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate, NoDeprecatedCustomRule, specifiedRules, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { WAVE_DOCUMENTS } from '../../src/accounting/wave/documents.js';

const schema: GraphQLSchema = buildSchema(readFileSync(new URL('../../contract/wave/schema.graphql', import.meta.url), 'utf8'));

describe('Wave documents against contract/wave/schema.graphql', () => {
  for (const [name, document] of Object.entries(WAVE_DOCUMENTS)) {
    it(`${name} (${document.kind} ${document.name}) is valid and uses nothing deprecated`, () => {
      const errors = validate(schema, parse(document.text), [...specifiedRules, NoDeprecatedCustomRule]);
      expect(errors.map((e) => e.message)).toEqual([]);
    });
  }

  it('the check itself refuses a deprecated field and an unknown one', () => {
    const bad = parse('query Bad($b: ID!) { business(id: $b) { invoice(id: $b) { total { raw } nope } } }');
    const messages = validate(schema, bad, [...specifiedRules, NoDeprecatedCustomRule]).map((e) => e.message);
    expect(messages.some((m) => /raw.*deprecated/i.test(m))).toBe(true);
    expect(messages.some((m) => /nope/.test(m))).toBe(true);
  });

  it('names every operation once', () => {
    const names = Object.values(WAVE_DOCUMENTS).map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
