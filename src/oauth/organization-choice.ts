// Which organisation a connection works in, when one consent may reach several (a provider's organisations,
// tenants or businesses): the configured one wins, then the one chosen before a reconnect if it is still
// reached, then the only one; with several and no choice, the connection page asks. The words of each problem
// are the provider's (its setting's name, what a person ticks or changes), so they are parameters.
import type { Organization } from '../store/connections.js';

export interface Settled {
  chosen?: Organization;
  problem?: string;
}

export interface ChoiceProblems {
  /** The configured ID is not among `list` (the reached ones, described). */
  notReached(configured: string, list: string): string;
  /** The connection reaches none. */
  none: string;
  /** Several and nothing chose among them: a problem where no page can ask (absent: the page asks). */
  several?(list: string): string;
}

export function settleOrganization(organizations: Organization[], configured: string | undefined, previous: string | undefined, problems: ChoiceProblems): Settled {
  if (configured) {
    const chosen = organizations.find((o) => o.id === configured);
    if (chosen) return { chosen };
    return { problem: problems.notReached(configured, describeOrganizations(organizations)) };
  }
  if (organizations.length === 0) return { problem: problems.none };
  const kept = previous ? organizations.find((o) => o.id === previous) : undefined;
  if (kept) return { chosen: kept };
  if (organizations.length === 1) return { chosen: organizations[0]! };
  return problems.several ? { problem: problems.several(describeOrganizations(organizations)) } : {};
}

/** "id name, id name", or "none": for messages that list what a connection reaches. */
export const describeOrganizations = (orgs: Organization[]) => (orgs.length ? orgs.map((o) => `${o.id} ${o.name}`).join(', ') : 'none');
