// Xero's `where` filter (a .NET dynamic-LINQ expression), the subset clients use: `Path == "text"` (or a
// single `=`), `!=` / `<>`, `<`, `<=`, `>`, `>=`, values "text", guid("…") / Guid("…"), numbers, true/false,
// null and DateTime(y, m, d[, h, m, s]), `Path.Contains("x")` / `.StartsWith("x")` / `.EndsWith("x")`,
// `.ToLower()`, joined by AND / && and OR / || (AND binds tighter). It is evaluated against the answer's JSON,
// so `Contact.ContactID` works as it reads and a "/Date(ms+0000)/" compares as the time it is.
// One left-to-right tokenizer pass with a length cap: linear on any input.
import { queryParseError } from './errors.js';

type Value = string | number | boolean | null | { dateMs: number };
type Op = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'Contains' | 'StartsWith' | 'EndsWith';
interface Clause {
  path: string[];
  lower: boolean;
  op: Op;
  value: Value;
}
/** OR of ANDs. */
export type Where = Clause[][];

const MAX_LENGTH = 2000;
const TOKEN = /\s*(?:(&&|\|\||==|!=|>=|<=|<>|=|<|>|\(|\)|\.|,)|("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*))/y;
const OPS: Record<string, Op> = { '==': '==', '=': '==', '!=': '!=', '<>': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

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
    if (tok === 'DateTime') {
      expect('(');
      const parts: number[] = [];
      for (;;) {
        const n = literal();
        if (typeof n !== 'number' || parts.length >= 6) throw queryParseError('DateTime takes 3 to 6 numbers');
        parts.push(n);
        if (t[i] === ')') break;
        expect(',');
      }
      expect(')');
      if (parts.length < 3) throw queryParseError('DateTime takes 3 to 6 numbers');
      const [y, mo, d, h = 0, mi = 0, s = 0] = parts as [number, number, number, number?, number?, number?];
      return { dateMs: Date.UTC(y, mo - 1, d, h, mi, s) };
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
    const op = OPS[t[i++] ?? ''];
    if (!op) throw queryParseError(`Operator '${t[i - 1] ?? 'end'}' is not supported in the where clause`);
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

const JSON_DATE = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/;

function matches(c: Clause, record: Record<string, unknown>, caseSensitive: boolean): boolean {
  let at: unknown = record;
  for (const key of c.path) at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined;
  if (c.value === null) return c.op === '!=' ? at != null : c.op === '==' && at == null;
  let have: unknown = at;
  let want: unknown = c.value;
  if (typeof c.value === 'object') {
    const m = typeof at === 'string' ? JSON_DATE.exec(at) : null;
    have = m ? Number(m[1]) : undefined;
    want = c.value.dateMs;
  } else if (typeof c.value === 'string') {
    const fold = (s: string) => (caseSensitive && !c.lower ? s : s.toLowerCase());
    have = typeof at === 'string' ? fold(at) : undefined;
    want = fold(c.value);
  }
  switch (c.op) {
    case '==': return have === want;
    case '!=': return have !== want;
    case 'Contains': return typeof have === 'string' && have.includes(String(want));
    case 'StartsWith': return typeof have === 'string' && have.startsWith(String(want));
    case 'EndsWith': return typeof have === 'string' && have.endsWith(String(want));
  }
  if (have === undefined || have === null || typeof have !== typeof want) return false;
  const [a, b] = [have as number | string, want as number | string];
  return c.op === '<' ? a < b : c.op === '<=' ? a <= b : c.op === '>' ? a > b : a >= b;
}
