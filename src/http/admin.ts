// The operator's HTTP side, behind ADMIN_TOKEN like /connect (same AdminAuth: a bearer token for scripts,
// the login form's SameSite=Strict session cookie for a browser; every POST is refused cross-site):
//   GET  /admin                  recent deals with their state, unsettled failures with a retry button
//   GET  /admin/deals/:id        a deal's events, jobs, attempts, accounting IDs and errors (JSON, or a page)
//   GET  /admin/jobs?state=…     jobs by state (JSON);  GET /admin/jobs/:id  one job and its attempts
//   POST /admin/jobs/:id/retry   re-run a failed or dead job;  POST /admin/deals/:id/retry  a deal's failure
//   GET  /metrics                Prometheus (bearer token: scrapers send `Authorization: Bearer …`)
import express, { type Request, type Response, type Router } from 'express';
import type { JobQueue } from '../jobs/queue.js';
import type { Logger } from '../log.js';
import type { AccountingNames } from '../sync/ports.js';
import { requestLogger } from './request-log.js';
import type { AccountingQuota } from '../accounting/backend.js';
import type { RelayMetrics } from '../metrics.js';
import { dealTimeline } from '../ops/deal-timeline.js';
import { attemptsOf, JOB_STATES, jobView, listJobs } from '../ops/job-view.js';
import { recentDeals, unsettledFailures } from '../ops/recent-deals.js';
import { relayStatus } from '../ops/relay-status.js';
import { DealLostRecords } from '../store/lost-records.js';
import { retryDeal, retryJob, type RetryResult } from '../ops/retry.js';
import type { Db } from '../store/db.js';
import type { JobState } from '../store/schema.js';
import { tooManyAttempts, type AdminAuth } from './admin-auth.js';
import { refuseCrossSite } from './same-origin.js';
import { ADMIN_TITLE, dealPage, messagePage, overviewPage } from './admin-page.js';
import { loginPage, sendPage } from './connect-page.js';

export interface AdminRouteDeps {
  /** Built from ADMIN_TOKEN; without it /admin and /metrics are off. */
  auth: AdminAuth | undefined;
  db: Db;
  queue: JobQueue;
  metrics: RelayMetrics;
  log: Logger;
  /** The accounting backend's names, for the deal page's labels. */
  accounting: AccountingNames;
  /** The accounting backend's call budgets as last seen (AccountingSide.quotas), for the overview. */
  quotas?: () => AccountingQuota[];
}

const DEAL_ID = /^\d{1,20}$/;
const JOB_ID = /^\d{1,15}$/;

export function adminRoutes(deps: AdminRouteDeps): Router {
  const router = express.Router();
  const auth = deps.auth;
  if (!auth) {
    router.use(['/admin', '/metrics'], (_req, res) => {
      res.status(404).json({ error: 'admin_off', message: 'The admin pages and /metrics are off: set ADMIN_TOKEN to use them.' });
    });
    return router;
  }
  const form = express.urlencoded({ extended: false, limit: '4kb' });
  const admin = auth.require((req, res) => {
    if (req.method === 'GET' && req.path.startsWith('/admin') && req.accepts(['json', 'html']) === 'html') {
      return sendPage(res, 401, ADMIN_TITLE, loginPage(undefined, '/admin/login', 'see what the relay did and retry what failed'));
    }
    res.status(401).json({ error: 'admin_required', message: 'Send Authorization: Bearer <ADMIN_TOKEN>, or log in on /admin.' });
  });
  const wantsPage = (req: Request) => req.accepts(['json', 'html']) === 'html';

  router.post(['/admin', '/admin/*rest', '/metrics'], refuseCrossSite);
  router.post('/admin/login', form, async (req, res) => {
    const token = typeof req.body?.token === 'string' ? req.body.token : '';
    const result = auth.checkToken(req, token);
    if (result.retryAfterMs) return tooManyAttempts(res, result.retryAfterMs);
    if (!result.ok) return sendPage(res, 401, ADMIN_TITLE, loginPage('That is not the admin token.', '/admin/login'));
    await auth.startSession(req, res);
    res.redirect(303, '/admin');
  });
  router.post('/admin/logout', async (req, res) => {
    await auth.endSession(req, res);
    res.redirect(303, '/admin');
  });

  router.get('/metrics', admin, async (_req, res) => {
    const { contentType, text } = await deps.metrics.scrape();
    res.set({ 'Content-Type': contentType, 'Cache-Control': 'no-store' }).send(text);
  });

  router.get('/admin', admin, async (req, res) => {
    const retried = typeof req.query.retried === 'string' && JOB_ID.test(req.query.retried) ? req.query.retried : undefined;
    const [status, failures, deals, lost] = await Promise.all([relayStatus(deps.db), unsettledFailures(deps.db, 50), recentDeals(deps.db, 30), new DealLostRecords(deps.db).needingAttention(50)]);
    const lostItems = lost.map((l) => ({ dealId: l.deal_id, invoiceId: l.invoice_id, invoiceNumber: l.invoice_number, detail: l.detail ?? '', at: new Date(Number(l.lost_at)).toISOString() }));
    sendPage(res, 200, ADMIN_TITLE, overviewPage({ status, failures: failures.map(jobView), deals, lost: lostItems, quotas: deps.quotas?.() ?? [], ...(retried ? { notice: `Job ${retried} is queued again and runs now.` } : {}) }));
  });

  router.get('/admin/deal', admin, (req, res) => {
    const id = typeof req.query.id === 'string' ? req.query.id.trim() : '';
    if (!DEAL_ID.test(id)) return sendPage(res, 400, ADMIN_TITLE, messagePage('A deal ID is a number, as in the deal\'s Kommo address.'));
    res.redirect(303, `/admin/deals/${id}`);
  });

  router.get('/admin/deals/:id', admin, async (req, res) => {
    const id = String(req.params.id);
    if (!DEAL_ID.test(id)) return void res.status(400).json({ error: 'bad_deal_id', message: 'A deal ID is a number.' });
    const timeline = await dealTimeline(deps.db, id);
    if (!timeline) {
      const message = `The relay knows nothing about deal ${id}: no webhook, reconcile or job has concerned it.`;
      if (wantsPage(req)) return sendPage(res, 404, ADMIN_TITLE, messagePage(message));
      return void res.status(404).json({ error: 'deal_not_found', message });
    }
    if (!wantsPage(req)) return void res.set('Cache-Control', 'no-store').json(timeline);
    const retried = typeof req.query.retried === 'string' && JOB_ID.test(req.query.retried) ? req.query.retried : undefined;
    sendPage(res, 200, `${ADMIN_TITLE}: deal ${id}`, dealPage(timeline, deps.accounting, retried ? `Job ${retried} is queued again and runs now.` : undefined));
  });

  router.get('/admin/jobs', admin, async (req, res) => {
    const state = typeof req.query.state === 'string' ? req.query.state : undefined;
    if (state !== undefined && !JOB_STATES.includes(state as JobState)) {
      return void res.status(400).json({ error: 'bad_state', message: `state must be one of ${JOB_STATES.join(', ')}.` });
    }
    const limit = Math.min(Math.max(Number(req.query.limit) || 100, 1), 500);
    const kind = typeof req.query.kind === 'string' && req.query.kind ? req.query.kind : undefined;
    const jobs = await listJobs(deps.db, { limit, ...(state ? { state: state as JobState } : {}), ...(kind ? { kind } : {}) });
    const attempts = await attemptsOf(deps.db, jobs.map((j) => j.id));
    res.set('Cache-Control', 'no-store').json({ jobs: jobs.map((j) => ({ ...jobView(j), attemptLog: attempts.get(j.id) ?? [] })) });
  });

  router.get('/admin/jobs/:id', admin, async (req, res) => {
    const id = String(req.params.id);
    const job = JOB_ID.test(id) ? await deps.queue.get(Number(id)) : undefined;
    if (!job) return void res.status(404).json({ error: 'job_not_found', message: `There is no job ${id}.` });
    const attempts = await attemptsOf(deps.db, [job.id]);
    res.set('Cache-Control', 'no-store').json({ ...jobView(job), attemptLog: attempts.get(job.id) ?? [] });
  });

  const answer = (req: Request, res: Response, result: RetryResult) => {
    // A form on the admin pages goes back to where it came from; scripts get JSON.
    if (req.is('application/x-www-form-urlencoded')) {
      if (!result.ok) return sendPage(res, result.status, ADMIN_TITLE, messagePage(result.message));
      const deal = typeof req.body?.deal === 'string' && DEAL_ID.test(req.body.deal) ? req.body.deal : undefined;
      const back = req.body?.from === 'deal' && deal ? `/admin/deals/${deal}` : '/admin';
      return res.redirect(303, `${back}?retried=${result.job.id}`);
    }
    if (!result.ok) return void res.status(result.status).json({ error: result.error, message: result.message });
    res.json({ retried: result.job, message: result.message });
  };

  router.post('/admin/jobs/:id/retry', admin, form, async (req, res) => {
    const id = String(req.params.id);
    if (!JOB_ID.test(id)) return answer(req, res, { ok: false, status: 404, error: 'job_not_found', message: `There is no job ${id}.` });
    const result = await retryJob(deps.queue, Number(id));
    requestLogger(res, deps.log).info({ job_id: Number(id), retried: result.ok }, 'operator asked to retry a job');
    answer(req, res, result);
  });

  router.post('/admin/deals/:id/retry', admin, form, async (req, res) => {
    const id = String(req.params.id);
    if (!DEAL_ID.test(id)) return answer(req, res, { ok: false, status: 404, error: 'deal_not_found', message: 'A deal ID is a number.' });
    const result = await retryDeal(deps.db, deps.queue, id);
    requestLogger(res, deps.log).info({ deal_id: id, retried: result.ok ? result.job.id : false }, 'operator asked to retry a deal');
    answer(req, res, result);
  });

  // A failure here is the operator's to see, as a page or JSON, not the webhook intake's 503.
  router.use(['/admin', '/metrics'], (err: unknown, req: Request, res: Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    requestLogger(res, deps.log).error({ err }, 'admin request failed');
    const message = `Something went wrong: ${(err as Error).message ?? String(err)}`;
    if (wantsPage(req)) return sendPage(res, 500, ADMIN_TITLE, messagePage(message));
    res.status(500).json({ error: 'admin_failed', message });
  });
  return router;
}
