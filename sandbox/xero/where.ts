// Xero's `where` filter, the subset clients use: `Path == "text"`, `Path != "text"`, `Path == guid("…")`,
// numbers, true/false and null, `Path.Contains("x")` / `.StartsWith("x")` / `.EndsWith("x")`, `.ToLower()`,
// joined by AND / OR (AND binds tighter), evaluated against the answer's JSON (so `Contact.ContactID`
// works as it reads). One left-to-right tokenizer pass with a length cap: linear on any input.
import { queryParseError } from './errors.js';

type Value = string | number | boolean | null;
interface Clause {
  path: string[];
  lower: boolean;
  op: '==' | '!=' | 'Contains' | 'StartsWith' | 'EndsWith';
  value: Value;
}
/** OR of ANDs. */
export type Where = Clause[][];

const MAX_LENGTH = 2000;
const TOKEN = /\s*(?:(&&|\|\||==|!=|AND\b|OR\b|\(|\)|\.|,)|("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*))/y;

function tokenize(raw: string): string[] {
  const text = raw.trim();
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    const m = TOKEN.exec(text);
    if (!m) throw queryParseError(`Unexpected character in the where clause at position ${TOKEN.lastIndex}`);
    out.push(m[1] ?? m[2] ?? m[3] ?? m[4]!);
  }
  return out;
}

export function parseWhere(text: string | undefined): Where | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  if (text.length > MAX_LENGTH) throw queryParseError('The where clause is too long');
  const t = tokenize(text);
  let i = 0;
  const expect = (tok: string) => {
    if (t[i] !== tok) throw queryParseError(`Expected '${tok}' in the where clause, found '${t[i] ?? 'end'}'`);
    i++;
  };
  const literal = (): Value => {
    const tok = t[i++];
    if (tok === undefined) throw queryParseError('The where clause ends early');
    if (tok.startsWith('"')) return JSON.parse(tok) as string;
    if (/^-?\d/.test(tok)) return Number(tok);
    if (tok === 'true' || tok === 'false') return tok === 'true';
    if (tok === 'null') return null;
    if (tok === 'guid' || tok === 'Guid') {
      expect('(');
      const v = literal();
      expect(')');
      return String(v).toLowerCase();
    }
    throw queryParseError(`Unexpected '${tok}' in the where clause`);
  };
  const clause = (): Clause => {
    const path: string[] = [];
    let lower = false;
    for (;;) {
      const name = t[i++];
      if (!name || !/^[A-Za-z_]/.test(name)) throw queryParseError(`Expected a field name in the where clause, found '${name ?? 'end'}'`);
      if (t[i] === '(') {
        expect('(');
        if (name === 'ToLower' || name === 'ToUpper') {
          expect(')');
          lower = true;
        } else if (name === 'Contains' || name === 'StartsWith' || name === 'EndsWith') {
          const value = literal();
          expect(')');
          return { path, lower, op: name, value };
        } else throw queryParseError(`Unsupported method ${name} in the where clause`);
      } else path.push(name);
      if (t[i] !== '.') break;
      i++;
    }
    const op = t[i++];
    if (op !== '==' && op !== '!=') throw queryParseError(`Operator '${op ?? 'end'}' is not supported in the where clause`);
    return { path, lower, op, value: literal() };
  };
  const or: Clause[][] = [[clause()]];
  while (i < t.length) {
    const joiner = t[i++];
    if (joiner === 'AND' || joiner === '&&') or[or.length - 1]!.push(clause());
    else if (joiner === 'OR' || joiner === '||') or.push([clause()]);
    else throw queryParseError(`Unexpected '${joiner}' in the where clause`);
  }
  return or;
}

/** `caseSensitive`: whether `==` on text tells "Ada@x.com" from "ada@x.com" (Xero: unconfirmed). */
export function matchesWhere(where: Where | undefined, record: Record<string, unknown>, caseSensitive: boolean): boolean {
  if (!where) return true;
  return where.some((all) => all.every((c) => matches(c, record, caseSensitive)));
}

function matches(c: Clause, record: Record<string, unknown>, caseSensitive: boolean): boolean {
  let at: unknown = record;
  for (const key of c.path) at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined;
  if (c.value === null) return c.op === '!=' ? at != null : at == null;
  if (typeof c.value !== 'string') return c.op === '!=' ? at !== c.value : at === c.value;
  const fold = (s: string) => (caseSensitive && !c.lower ? s : s.toLowerCase());
  const have = typeof at === 'string' ? fold(at) : undefined;
  const want = fold(c.value);
  switch (c.op) {
    case '==': return have === want;
    case '!=': return have !== want;
    case 'Contains': return have?.includes(want) ?? false;
    case 'StartsWith': return have?.startsWith(want) ?? false;
    case 'EndsWith': return have?.endsWith(want) ?? false;
  }
}
