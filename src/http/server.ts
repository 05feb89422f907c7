// The relay's HTTP server, with limits so that slow or many clients cannot hold it.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Env } from '../config/env.js';
import type { Logger } from '../log.js';

export type ServerLimits = Pick<Env, 'PORT' | 'SERVER_HEADERS_TIMEOUT_MS' | 'SERVER_REQUEST_TIMEOUT_MS' | 'SERVER_KEEP_ALIVE_TIMEOUT_MS' | 'SERVER_MAX_CONNECTIONS'>;

/**
 * The server's limits: a client must send its headers within SERVER_HEADERS_TIMEOUT_MS and its whole
 * request within SERVER_REQUEST_TIMEOUT_MS (Node answers 408 and closes the socket), an idle keep-alive
 * socket is closed after SERVER_KEEP_ALIVE_TIMEOUT_MS, and connections beyond SERVER_MAX_CONNECTIONS are
 * dropped at once. Node checks the two timeouts on a timer (every 30 s by default, so a slow body could
 * outlive its bound by half a minute): here it runs every fifth of the shorter bound, at most every second.
 */
export function listen(app: RequestListener, env: ServerLimits, log?: Logger): Promise<Server> {
  const checkEvery = Math.max(50, Math.min(1000, Math.floor(Math.min(env.SERVER_HEADERS_TIMEOUT_MS, env.SERVER_REQUEST_TIMEOUT_MS) / 5)));
  const server = createServer(
    {
      headersTimeout: env.SERVER_HEADERS_TIMEOUT_MS,
      requestTimeout: env.SERVER_REQUEST_TIMEOUT_MS,
      keepAliveTimeout: env.SERVER_KEEP_ALIVE_TIMEOUT_MS,
      connectionsCheckingInterval: checkEvery,
    },
    app,
  );
  server.maxConnections = env.SERVER_MAX_CONNECTIONS;
  // A flood of connections must not become a flood of log lines: one warning a minute at most.
  let warnedAt = 0;
  server.on('drop', () => {
    if (Date.now() - warnedAt < 60_000) return;
    warnedAt = Date.now();
    log?.warn({ max_connections: env.SERVER_MAX_CONNECTIONS }, 'new connections dropped: SERVER_MAX_CONNECTIONS reached');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.PORT, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
