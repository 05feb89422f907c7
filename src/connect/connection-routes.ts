// Wires both connect flows, their status read model and the routes of the connection page. What happens
// once a side is connected (mapping resolved, reference data reloaded, waiting jobs woken) is the caller's.
import type { Router } from 'express';
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
import type { ZohoAuth } from '../accounting/zoho/auth.js';
import type { ZohoBooksClient } from '../accounting/zoho/client.js';
import type { ZohoConnection } from '../accounting/zoho/connection.js';
import { KommoConnectFlow } from './kommo-flow.js';
import { connectionsStatus } from './status.js';
import { ZohoConnectFlow } from '../accounting/zoho/connect-flow.js';

export interface ConnectionRoutesDeps {
  env: Env;
  db: Db;
  connections: Connections;
  kommo: { client: KommoClient; credentials: KommoCredentials };
  zoho: { client: ZohoBooksClient; auth: ZohoAuth; connection: ZohoConnection };
  mapping: MappingState;
  log: Logger;
  /** Built from ADMIN_TOKEN and shared with /admin: one login, one count of wrong tokens. */
  auth: AdminAuth | undefined;
  onKommoConnected: () => Promise<void>;
  onZohoConnected: () => Promise<void>;
}

export function connectionRoutes(deps: ConnectionRoutesDeps): Router {
  const { env, connections, kommo, zoho } = deps;
  const states = new OAuthStates(deps.db);
  const log = deps.log.child({ component: 'connect' });
  const zohoFlow = new ZohoConnectFlow({ env, states, connections, auth: zoho.auth, books: zoho.client, connection: zoho.connection, log, onConnected: deps.onZohoConnected });
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
    zoho: zohoFlow,
    kommo: kommoFlow,
    log,
    status: () =>
      connectionsStatus({
        env,
        connections,
        zohoAuth: zoho.auth,
        zohoConnection: zoho.connection,
        kommoTokens: kommo.credentials.tokens,
        mapping: deps.mapping,
        unavailable: { kommo: () => kommoFlow.unavailable(), zoho: () => zohoFlow.unavailable() },
      }),
  });
}
