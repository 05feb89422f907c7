// Who a request acts for, and the GraphQL errors Wave answers with `extensions.code` (Errors page):
// UNAUTHENTICATED (missing, unknown or expired token), NOT_FOUND (an ID the token's business does not have),
// BAD_USER_INPUT, and FORBIDDEN for a scope the token was not granted (code unconfirmed: the reference names
// none for it). Scopes: `resource:read|write|*`, write does not imply read, `invoice:send` apart (OAuth Scopes).
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Business, WaveState } from './state.js';

export interface Grant {
  kind: 'oauth' | 'full';
  scope: string;
  /** The business the consent pinned (`businessId` at authorize); undefined: every business of the user. */
  businessId?: string;
}

export type AuthProblem = 'missing' | 'invalid' | 'expired';

export interface RequestAccess {
  grant?: Grant;
  problem?: AuthProblem;
}

export function waveError(message: string, code: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, id: randomUUID() } });
}

const AUTH_MESSAGES: Record<AuthProblem, string> = {
  missing: 'You must be logged in: no Authorization Bearer token was sent.',
  invalid: 'The access token is not valid.',
  expired: 'The access token has expired.',
};

/** Whether a grant's scope string covers `resource:action` (`*` covers read and write, not send). */
export function scopeCovers(grant: Grant, resource: string, action: 'read' | 'write' | 'send'): boolean {
  if (grant.kind === 'full') return true;
  const scopes = grant.scope.split(/\s+/);
  if (scopes.includes(`${resource}:${action}`)) return true;
  return action !== 'send' && scopes.includes(`${resource}:*`);
}

export class Access {
  constructor(
    private readonly state: WaveState,
    private readonly access: RequestAccess,
  ) {}

  /** The grant, or UNAUTHENTICATED. */
  grant(): Grant {
    if (this.access.grant) return this.access.grant;
    throw waveError(AUTH_MESSAGES[this.access.problem ?? 'missing'], 'UNAUTHENTICATED');
  }

  require(resource: string, action: 'read' | 'write' | 'send'): Grant {
    const grant = this.grant();
    if (!scopeCovers(grant, resource, action)) throw waveError(`The access token lacks the ${resource}:${action} scope.`, 'FORBIDDEN');
    return grant;
  }

  /** The businesses the token reaches (one when the consent pinned it). */
  businesses(): Business[] {
    const grant = this.grant();
    const all = [...this.state.businesses.values()];
    return grant.businessId ? all.filter((b) => b.id === grant.businessId) : all;
  }

  /** A business the token reaches, or NOT_FOUND. */
  business(id: unknown): Business {
    const b = typeof id === 'string' ? this.state.businesses.get(id) : undefined;
    const grant = this.grant();
    if (!b || (grant.businessId && grant.businessId !== b.id)) throw waveError('Business not found.', 'NOT_FOUND');
    return b;
  }

  /** `business` without an ID: the pinned or only business, else the user's default (the first). */
  defaultBusiness(): Business {
    const list = this.businesses();
    if (!list[0]) throw waveError('Business not found.', 'NOT_FOUND');
    return list[0];
  }
}
