// Wires both connect flows (Kommo's and the accounting backend's), their status read model and the routes
// of the connection page. What happens once a side is connected (mapping resolved, reference data
// reloaded, waiting jobs woken) is the caller's.
import type { Router } from 'express';
import type { AccountingSide } from '../accounting/backend.js';
import type { Env } from '../config/env.js';
import type { AdminAuth } from '../http/admin-auth.js';
import { connectRoutes } from '../http/connect.js';
import type { KommoClient } from '../kommo/client.js';
import type { KommoCredentials } from '../kommo/credentials.js';
import type { Logger } from '../log.js';
import type { MappingState } from '../startup/mapping-state.js';
import type { Connections } from '../store/connections.js';
import type { Db } from '../store/db.js';
import { OAuthStates } from '../store/oauth-states.js';
import type { AccountingNames } from '../sync/ports.js';
import { KommoConnectFlow } from './kommo-flow.js';
import { connectionsStatus } from './status.js';

export interface ConnectionRoutesDeps {
  env: Env;
  db: Db;
  connections: Connections;
  kommo: { client: KommoClient; credentials: KommoCredentials };
  accounting: { side: AccountingSide; names: AccountingNames };
  mapping: MappingState;
  log: Logger;
  /** Built from ADMIN_TOKEN and shared with /admin: one login, one count of wrong tokens. */
  auth: AdminAuth | undefined;
  onKommoConnected: () => Promise<void>;
  onAccountingConnected: () => Promise<void>;
}

export function connectionRoutes(deps: ConnectionRoutesDeps): Router {
  const { env, connections, kommo, accounting } = deps;
  const states = new OAuthStates(deps.db);
  const log = deps.log.child({ component: 'connect' });
  const accountingFlow = accounting.side.connectFlow({ states, log, onConnected: deps.onAccountingConnected });
  const kommoFlow = new KommoConnectFlow({
    env,
    states,
    connections,
    oauth: kommo.credentials.oauth,
    tokens: kommo.credentials.tokens,
    kommo: kommo.client,
    log,
    onConnected: deps.onKommoConnected,
  });
  return connectRoutes({
    auth: deps.auth,
    accounting: { names: accounting.names, flow: accountingFlow },
    kommo: kommoFlow,
    log,
    status: () =>
      connectionsStatus({
        env,
        connections,
        accounting,
        kommoTokens: kommo.credentials.tokens,
        mapping: deps.mapping,
        unavailable: { kommo: () => kommoFlow.unavailable(), accounting: () => accountingFlow.unavailable() },
      }),
  });
}
