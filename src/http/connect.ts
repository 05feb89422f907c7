// The connection page and the OAuth routes of both sides. Starting a connection and choosing an
// organization need an administrator and are refused when another site starts them; the callbacks cannot
// be (the provider's redirect is a cross-site navigation, which carries no SameSite=Strict cookie) and are
// authenticated by their single-use `state`.
import express, { type Request, type Response, type Router } from 'express';
import type { AccountingConnectFlow } from '../accounting/backend.js';
import { KOMMO_CALLBACK_PATH } from '../config/env.js';
import type { KommoConnectFlow } from '../connect/kommo-flow.js';
import type { ConnectOutcome } from '../connect/outcome.js';
import { statusJson, type ConnectionsStatus } from '../connect/status.js';
import { organizationWord, type AccountingNames } from '../sync/ports.js';
import type { Logger } from '../log.js';
import { requestLogger } from './request-log.js';
import { tooManyAttempts, type AdminAuth } from './admin-auth.js';
import { refuseCrossSite } from './same-origin.js';
import { connectionPage, loginPage, outcomePage, sendPage } from './connect-page.js';

export interface ConnectRouteDeps {
  /** Built from ADMIN_TOKEN; without it the page is off. */
  auth: AdminAuth | undefined;
  /** The accounting backend's flow, on /connect/<its ID>. */
  accounting: { names: AccountingNames; flow: AccountingConnectFlow };
  kommo: KommoConnectFlow;
  status: () => Promise<ConnectionsStatus>;
  log: Logger;
}

const TITLE = 'Relay connections';

export function connectRoutes(deps: ConnectRouteDeps): Router {
  const router = express.Router();
  const auth = deps.auth;
  if (!auth) {
    router.use('/connect', (_req, res) => {
      res.status(404).json({ error: 'connect_page_off', message: 'The connection page is off: set ADMIN_TOKEN to use it.' });
    });
    return router;
  }
  const form = express.urlencoded({ extended: false, limit: '4kb' });
  const admin = auth.require((req, res) => {
    // A browser asking for a page gets the login form; scripts (and /connect/status) get JSON.
    if (req.method === 'GET' && req.path !== '/connect/status' && req.accepts(['html', 'json']) === 'html') return sendPage(res, 401, TITLE, loginPage());
    res.status(401).json({ error: 'admin_required', message: 'Send Authorization: Bearer <ADMIN_TOKEN>, or log in on /connect.' });
  });

  // Every POST, and the GETs that start a connection (they create an OAuth state and leave for the provider).
  router.post(['/connect', '/connect/*rest'], refuseCrossSite);
  const accountingPath = `/connect/${deps.accounting.names.id}`;
  router.get([accountingPath, '/connect/kommo'], refuseCrossSite);
  router.post('/connect/login', form, async (req, res) => {
    const token = typeof req.body?.token === 'string' ? req.body.token : '';
    const result = auth.checkToken(req, token);
    if (result.retryAfterMs) return tooManyAttempts(res, result.retryAfterMs);
    if (!result.ok) return sendPage(res, 401, TITLE, loginPage('That is not the admin token.'));
    await auth.startSession(req, res);
    res.redirect(303, '/connect');
  });
  router.post('/connect/logout', async (req, res) => {
    await auth.endSession(req, res);
    res.redirect(303, '/connect');
  });

  router.get('/connect', admin, async (_req, res) => sendPage(res, 200, TITLE, connectionPage(await deps.status())));
  router.get('/connect/status', admin, async (_req, res) => {
    res.set('Cache-Control', 'no-store').json(statusJson(await deps.status()));
  });

  for (const [side, flow, callbackPath] of [
    [deps.accounting.names.id, deps.accounting.flow, deps.accounting.flow.callbackPath],
    ['kommo', deps.kommo, KOMMO_CALLBACK_PATH],
  ] as const) {
    router.get(`/connect/${side}`, admin, async (_req, res) => {
      const unavailable = flow.unavailable();
      if (unavailable) return sendPage(res, 409, TITLE, outcomePage(unavailable));
      res.redirect(302, await flow.start());
    });
    router.get(callbackPath, async (req, res) => {
      const outcome = await flow.complete(stringsOf(req.query));
      showOutcome(res, outcome, deps.accounting.names);
    });
  }

  router.post(`${accountingPath}/organization`, admin, form, async (req, res) => {
    const id = typeof req.body?.organization_id === 'string' ? req.body.organization_id : '';
    if (!(await deps.accounting.flow.choose(id))) return sendPage(res, 400, TITLE, outcomePage(`That ${organizationWord(deps.accounting.names)} is not one of the connected account's ${organizationWord(deps.accounting.names)}s.`));
    res.redirect(303, '/connect');
  });

  // A failure here is shown to the administrator as a page, not as the webhook intake's 503.
  router.use('/connect', (err: unknown, _req: Request, res: Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    requestLogger(res, deps.log).error({ err }, 'connection page failed');
    sendPage(res, 500, TITLE, outcomePage(`Something went wrong: ${(err as Error).message ?? String(err)}`));
  });
  return router;
}

function showOutcome(res: Response, outcome: ConnectOutcome, accounting: AccountingNames): void {
  if (!outcome.ok) return sendPage(res, outcome.status, TITLE, outcomePage(outcome.message));
  sendPage(res, 200, TITLE, outcomePage(outcome.message, { ...outcome, accounting }));
}

/** Query values as single strings; repeated or nested ones are dropped. */
function stringsOf(query: Request['query']): Record<string, string> {
  return Object.fromEntries(Object.entries(query).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
