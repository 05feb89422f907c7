// POST /graphql/public: Wave's one endpoint, as the reference describes its behaviour. A document is parsed
// and validated against contract/wave/schema.graphql BEFORE the token is looked at (the live endpoint answers
// GRAPHQL_VALIDATION_FAILED / BAD_USER_INPUT without a token, UNAUTHENTICATED only for a valid document), so
// auth is checked by each root field. Everything off contract is recorded in `violations`: a document that
// does not parse or validate, wrong variables, a deprecated field / argument / enum value / input field, and
// an error the fake itself raised without a code (a fake bug). Faults: an INTERNAL_SERVER_ERROR answer before
// any work, or the answer lost after the work (the uncertain mutation a client must resolve by re-reading).
import type { Request, Response } from 'express';
import {
  GraphQLError,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  Kind,
  NoDeprecatedCustomRule,
  execute,
  getOperationAST,
  parse,
  typeFromAST,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { waveError } from './access.js';

export interface WaveViolation {
  at: string;
  kind: 'request' | 'parse' | 'validation' | 'variables' | 'deprecated' | 'response';
  operationName?: string;
  messages: string[];
  /** The document's first 2,000 characters. */
  query?: string;
}

/** One-off faults on the next matching operations (`field`: a root field, e.g. invoiceCreate). */
export interface OperationFilter {
  field?: string;
}

export class OperationFaults {
  private internal: OperationFilter[] = [];
  private losses: OperationFilter[] = [];
  /** Operations whose answer was cut after the work was done. */
  readonly lost: Array<{ at: string; operationName?: string; fields: string[] }> = [];

  internalErrorNext(count: number, filter: OperationFilter = {}): void {
    for (let i = 0; i < count; i++) this.internal.push(filter);
  }
  loseNextAnswers(count: number, filter: OperationFilter = {}): void {
    for (let i = 0; i < count; i++) this.losses.push(filter);
  }
  reset(): void {
    this.internal = [];
    this.losses = [];
  }
  take(kind: 'internal' | 'loss', fields: string[]): boolean {
    const queue = kind === 'internal' ? this.internal : this.losses;
    const i = queue.findIndex((f) => !f.field || fields.includes(f.field));
    if (i < 0) return false;
    queue.splice(i, 1);
    return true;
  }
}

export interface EndpointOptions {
  schema: GraphQLSchema;
  violations: WaveViolation[];
  faults: OperationFaults;
  /** Status for parse / validation / variable errors (default 400). */
  invalidDocumentStatus: number;
  /** rootValue and contextValue for one request. */
  prepare: (req: Request) => { rootValue: unknown; contextValue: unknown };
}

const MAX_QUERY_CHARS = 100_000;
const errorJson = (e: GraphQLError) => e.toJSON();
const answer = (res: Response, status: number, body: unknown) => void res.status(status).json(body);

/** Deprecated input fields in the variables (NoDeprecatedCustomRule sees only literals). Bounded by the body. */
function deprecatedInVariables(schema: GraphQLSchema, op: OperationDefinitionNode, variables: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (type: GraphQLInputType, value: unknown, path: string, depth: number): void => {
    if (value === null || value === undefined || depth > 20 || out.length > 20) return;
    if (type instanceof GraphQLNonNull) return walk(type.ofType, value, path, depth);
    if (type instanceof GraphQLList) {
      if (Array.isArray(value)) value.slice(0, 1000).forEach((v, i) => walk(type.ofType, v, `${path}[${i}]`, depth + 1));
      return;
    }
    if (type instanceof GraphQLInputObjectType && typeof value === 'object') {
      const fields = type.getFields();
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const field = fields[k];
        if (!field) continue;
        if (field.deprecationReason) out.push(`The input field ${type.name}.${k} is deprecated (${path}.${k}). ${field.deprecationReason}`);
        walk(field.type, v, `${path}.${k}`, depth + 1);
      }
    }
  };
  for (const def of op.variableDefinitions ?? []) {
    const type = typeFromAST(schema, def.type);
    if (type) walk(type as GraphQLInputType, variables[def.variable.name.value], `$${def.variable.name.value}`, 0);
  }
  return out;
}

export function graphqlEndpoint(o: EndpointOptions) {
  const record = (v: Omit<WaveViolation, 'at'>) => o.violations.push({ at: new Date().toISOString(), ...v });
  return async (req: Request, res: Response) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const query = body.query;
    const variables = body.variables ?? {};
    const operationName = typeof body.operationName === 'string' ? body.operationName : undefined;
    if (typeof query !== 'string' || query.length > MAX_QUERY_CHARS || typeof variables !== 'object' || Array.isArray(variables)) {
      const message = typeof query !== 'string' ? 'POST body must be JSON with a "query" string.' : query.length > MAX_QUERY_CHARS ? 'The query is too long.' : '"variables" must be an object.';
      // A client that went away mid-request (a killed relay) sent no document at all: not a contract violation.
      if (!(req.readableAborted || req.socket?.destroyed)) record({ kind: 'request', messages: [message] });
      return answer(res, 400, { errors: [errorJson(waveError(message, 'BAD_REQUEST'))] });
    }
    const excerpt = query.slice(0, 2000);
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: 20_000 });
    } catch (e) {
      const err = e instanceof GraphQLError ? e : new GraphQLError(String(e));
      record({ kind: 'parse', messages: [err.message], query: excerpt });
      return answer(res, o.invalidDocumentStatus, { errors: [{ ...errorJson(err), extensions: { code: 'GRAPHQL_PARSE_FAILED' } }] });
    }
    const invalid = validate(o.schema, document);
    const op = invalid.length === 0 ? getOperationAST(document, operationName) : null;
    if (invalid.length > 0 || !op) {
      const errors = invalid.length > 0 ? invalid : [new GraphQLError(operationName ? `Unknown operation named "${operationName}".` : 'Must provide operation name if query contains multiple operations.')];
      record({ kind: 'validation', ...(operationName ? { operationName } : {}), messages: errors.map((e) => e.message), query: excerpt });
      return answer(res, o.invalidDocumentStatus, { errors: errors.map((e) => ({ ...errorJson(e), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })) });
    }
    const name = op.name?.value;
    const deprecated = [...validate(o.schema, document, [NoDeprecatedCustomRule]).map((e) => e.message), ...deprecatedInVariables(o.schema, op, variables as Record<string, unknown>)];
    if (deprecated.length > 0) record({ kind: 'deprecated', ...(name ? { operationName: name } : {}), messages: deprecated, query: excerpt });

    const fields = op.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));
    if (!fields.every((f) => f.startsWith('__')) && o.faults.take('internal', fields)) {
      return answer(res, 200, { data: null, errors: [errorJson(waveError('Internal server error. Please try again.', 'INTERNAL_SERVER_ERROR'))] });
    }

    const { rootValue, contextValue } = o.prepare(req);
    const result = (await execute({ schema: o.schema, document, rootValue, contextValue, variableValues: variables as Record<string, unknown>, operationName })) as ExecutionResult;
    if (!('data' in result) || result.data === undefined) {
      // Variable coercion failed: nothing ran.
      const errors = result.errors ?? [];
      record({ kind: 'variables', ...(name ? { operationName: name } : {}), messages: errors.map((e) => e.message), query: excerpt });
      return answer(res, o.invalidDocumentStatus, { errors: errors.map((e) => ({ ...errorJson(e), extensions: { code: 'BAD_USER_INPUT' } })) });
    }
    const errors = (result.errors ?? []).map((e) => {
      const json = errorJson(e);
      if (typeof e.extensions?.code === 'string') return json;
      record({ kind: 'response', ...(name ? { operationName: name } : {}), messages: [e.message], query: excerpt });
      return { ...json, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    });
    if (o.faults.take('loss', fields)) {
      o.faults.lost.push({ at: new Date().toISOString(), ...(name ? { operationName: name } : {}), fields });
      res.socket?.destroy();
      return;
    }
    answer(res, 200, errors.length > 0 ? { data: result.data, errors } : { data: result.data });
  };
}
