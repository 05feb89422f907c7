// Server-rendered HTML of the admin pages, in the connection page's style (connect-page.ts: sendPage,
// escapeHtml, no script at all). Every dynamic value goes through escapeHtml; links leave only for an
// http(s) invoice URL. What is rendered comes from ops/ read models, which carry no token or secret.
import type { AccountingQuota } from '../accounting/backend.js';
import type { DealState } from '../ops/deal-state.js';
import type { DealTimeline } from '../ops/deal-timeline.js';
import type { JobView } from '../ops/job-view.js';
import type { DealSummary } from '../ops/recent-deals.js';
import type { RelayStatus } from '../ops/relay-status.js';
import type { AccountingNames } from '../sync/ports.js';
import { escapeHtml } from './connect-page.js';

export const ADMIN_TITLE = 'Relay admin';

const STYLE =
  '<style>body{max-width:72rem}table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border-bottom:1px solid #ddd;padding:.3rem .4rem;text-align:left;vertical-align:top}' +
  'td form{margin:0}.notice{background:#e8f4ea;padding:.5rem;border-radius:4px}.state-failed,.refused{color:#a11}.state-invoiced,.state-paid{color:#176c2b}code{font-size:90%}</style>';

const time = (isoTime: string) => escapeHtml(isoTime.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'));
const dealLink = (dealId: string | null) => (dealId ? `<a href="/admin/deals/${escapeHtml(encodeURIComponent(dealId))}">${escapeHtml(dealId)}</a>` : '—');

function invoiceLink(number: string | null, id: string | null, url: string | null): string {
  const text = escapeHtml(number ?? id ?? '');
  return url && /^https?:\/\//i.test(url) ? `<a class="invoice" href="${escapeHtml(url)}" rel="noreferrer">${text}</a>` : `<span class="invoice">${text}</span>`;
}

function retryButton(jobId: number, from: 'page' | 'deal', dealId?: string | null): string {
  return (
    `<form method="post" action="/admin/jobs/${jobId}/retry"><input type="hidden" name="from" value="${from}">` +
    (dealId ? `<input type="hidden" name="deal" value="${escapeHtml(dealId)}">` : '') +
    `<button type="submit">Retry</button></form>`
  );
}

function stateCell(state: DealState): string {
  return `<td class="state state-${escapeHtml(state.kind)}">${escapeHtml(state.label)}</td>`;
}

function reason(job: JobView): string {
  return job.lastError ? `<code>${escapeHtml(job.lastError.code)}</code> ${escapeHtml(job.lastError.message)}` : '';
}

function statusSection(s: RelayStatus): string {
  const sweep = s.lastReconcile;
  const rows: Array<[string, string]> = [
    ['Due now', String(s.queue.due)],
    ['Waiting to retry', String(s.queue.waitingToRetry)],
    ['Running', String(s.queue.byState.running)],
    ['Done', String(s.queue.byState.done)],
    ['Unsettled failures', String(s.failures.count)],
    [
      'Last reconcile',
      sweep
        ? `${sweep.at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}: ${sweep.dealsChecked} deals, ${sweep.invoicesChecked} invoices checked; ${sweep.invoiceJobs + sweep.paymentJobs} jobs added${sweep.errors.length ? `; errors: ${sweep.errors.join('; ')}` : ''}`
        : 'not yet',
    ],
  ];
  return `<section id="status"><h2>Queue</h2><dl>${rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('')}</dl></section>`;
}

/** The accounting backend's call budgets (e.g. its calls left today), when it reports any. */
function quotaSection(quotas: AccountingQuota[]): string {
  if (quotas.length === 0) return '';
  const rows = quotas.map((q) => {
    const left = q.remaining === undefined ? 'not reported yet' : `${q.remaining.toLocaleString('en')}${q.limit !== undefined ? ` of ${q.limit.toLocaleString('en')}` : ''}`;
    const paused = q.pausedUntil ? `; used up: work waits until ${new Date(q.pausedUntil).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}` : '';
    return `<dt>${escapeHtml(q.label)}</dt><dd class="quota${q.pausedUntil ? ' refused' : ''}" data-quota="${escapeHtml(q.name)}">${escapeHtml(left + paused)}</dd>`;
  });
  return `<section id="quotas"><h2>API budget</h2><dl>${rows.join('')}</dl></section>`;
}

/** Lost deals whose invoice is still open (invoice.onLost): a person settles each in the accounting system. */
export interface LostItem {
  dealId: string;
  invoiceId: string | null;
  invoiceNumber: string | null;
  detail: string;
  at: string;
}

function lostSection(items: LostItem[] | undefined): string {
  if (!items?.length) return '';
  const rows = items
    .map((i) => `<tr data-lost="${escapeHtml(i.dealId)}"><td>${dealLink(i.dealId)}</td><td>${escapeHtml(i.invoiceNumber ?? i.invoiceId ?? '')}</td><td class="reason">${escapeHtml(i.detail)}</td><td>${time(i.at)}</td></tr>`)
    .join('');
  return `<section id="lost"><h2>Lost deals with an open invoice</h2><table><thead><tr><th>Deal</th><th>Invoice</th><th>What the relay did</th><th>Lost</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

export function overviewPage(data: { status: RelayStatus; failures: JobView[]; deals: DealSummary[]; quotas?: AccountingQuota[]; lost?: LostItem[]; notice?: string }): string {
  const failures = data.failures.length
    ? `<table><thead><tr><th>Job</th><th>Deal</th><th>Kind</th><th>State</th><th>Reason</th><th>When</th><th></th></tr></thead><tbody>${data.failures
        .map(
          (j) =>
            `<tr data-job="${j.id}"><td>#${j.id}</td><td>${dealLink(j.dealId)}</td><td>${escapeHtml(j.kind)}</td><td>${escapeHtml(j.state)}</td><td class="reason">${reason(j)}</td><td>${time(j.updatedAt)}</td><td>${retryButton(j.id, 'page')}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p>No unsettled failures.</p>';
  const deals = data.deals.length
    ? `<table><thead><tr><th>Deal</th><th>State</th><th>Invoice</th><th>Last activity</th></tr></thead><tbody>${data.deals
        .map(
          (d) =>
            `<tr data-deal="${escapeHtml(d.dealId)}"><td>${dealLink(d.dealId)}</td>${stateCell(d.state)}<td>${d.invoice ? invoiceLink(d.invoice.number, d.invoice.id, d.invoice.url) : ''}</td><td>${time(d.lastActivity)}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '<p>No deals yet.</p>';
  return (
    STYLE +
    (data.notice ? `<p class="notice">${escapeHtml(data.notice)}</p>` : '') +
    statusSection(data.status) +
    quotaSection(data.quotas ?? []) +
    '<form method="get" action="/admin/deal"><label>Deal ID <input name="id" inputmode="numeric" pattern="[0-9]+" required></label> <button type="submit">Show</button></form>' +
    `<section id="failures"><h2>Failures</h2>${failures}</section>` +
    lostSection(data.lost) +
    `<section id="deals"><h2>Recent deals</h2>${deals}</section>` +
    '<form method="post" action="/admin/logout"><button type="submit">Log out</button></form>'
  );
}

export function dealPage(t: DealTimeline, names: AccountingNames, notice?: string): string {
  const z = t.accounting;
  const facts: Array<[string, string | null]> = [
    ['State', `<span class="state state-${escapeHtml(t.state.kind)}">${escapeHtml(t.state.label)}</span>`],
    ['Invoice', z.invoiceId ? invoiceLink(z.invoiceNumber, z.invoiceId, z.invoiceUrl) : null],
    [`${names.short} invoice ID`, z.invoiceId && escapeHtml(z.invoiceId)],
    ['Invoice status', z.invoiceStatus && `${escapeHtml(z.invoiceStatus)}${z.emailed ? ', emailed' : ''}`],
    ['Review', z.review ? `<span class="review review-${escapeHtml(z.review)}">${escapeHtml(z.review === 'waiting' ? 'draft waiting for approval' : z.review === 'approved' ? 'approved, being sent' : 'approved and sent')}</span>` : null],
    ['Reference', z.reference && escapeHtml(z.reference)],
    [`${names.short} customer ID`, z.customerId && escapeHtml(z.customerId)],
    ['Recurring invoice', z.recurring && `${escapeHtml(z.recurring.name)} (${escapeHtml(z.recurring.state)}${z.recurring.recurrenceId ? `, ${escapeHtml(z.recurring.recurrenceId)}` : ''})`],
    ['Lost', z.lost ? `<span class="lost${z.lost.open ? ' refused' : ''}">${time(z.lost.at)}: ${escapeHtml(z.lost.state === 'done' ? (z.lost.detail ?? z.lost.action ?? '') : `${z.lost.state} invoice ${z.lost.invoiceId ?? ''} (under way)`)}${z.lost.recurringStopped ? '; recurring invoice stopped' : ''}</span>` : null],
    ['Paid invoices', z.invoices.some((i) => i.paidAt) ? z.invoices.filter((i) => i.paidAt).map((i) => `${escapeHtml(i.invoiceId)} (${time(i.paidAt!)})`).join(', ') : null],
    ['Refused by Kommo', t.refused.length ? t.refused.map((r) => `<span class="refused">${escapeHtml(r.what)}: ${escapeHtml(r.reason)}</span>`).join('<br>') : null],
  ];
  const retry = t.state.kind === 'failed' && t.state.jobId !== undefined ? `<p>${retryButton(t.state.jobId, 'deal', t.dealId)}</p>` : '';
  const jobs = t.jobs
    .map(
      (j) =>
        `<tr data-job="${j.id}"><td>#${j.id}</td><td>${escapeHtml(j.kind)}</td><td>${escapeHtml(j.state)}</td><td>${j.attempts}/${j.maxAttempts}</td><td class="reason">${reason(j)}</td><td>${time(j.updatedAt)}</td></tr>`,
    )
    .join('');
  const writes = t.writes
    .map((w) => `<tr data-write="${escapeHtml(w.key)}"><td class="state-${w.state === 'refused' ? 'failed' : escapeHtml(w.state)}">${escapeHtml(w.state)}</td><td>${escapeHtml(w.label)}</td><td class="reason">${escapeHtml(w.reason ?? '')}</td><td>${w.attempts}</td><td>${time(w.updatedAt)}</td></tr>`)
    .join('');
  const timeline = t.timeline.map((e) => `<tr><td>${time(e.at)}</td><td>${escapeHtml(e.what)}${e.jobId ? ` #${e.jobId}` : ''}</td><td>${escapeHtml(e.text)}</td></tr>`).join('');
  return (
    STYLE +
    (notice ? `<p class="notice">${escapeHtml(notice)}</p>` : '') +
    `<section id="deal"><h2>Deal ${escapeHtml(t.dealId)}</h2><dl>${facts
      .filter((f): f is [string, string] => f[1] !== null && f[1] !== '')
      .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${v}</dd>`)
      .join('')}</dl>${retry}</section>` +
    `<section id="jobs"><h2>Jobs</h2><table><thead><tr><th>Job</th><th>Kind</th><th>State</th><th>Attempts</th><th>Last error</th><th>Updated</th></tr></thead><tbody>${jobs}</tbody></table></section>` +
    (writes ? `<section id="writes"><h2>Writes to Kommo</h2><table><thead><tr><th>State</th><th>Write</th><th>Kommo's reason</th><th>Attempts</th><th>Updated</th></tr></thead><tbody>${writes}</tbody></table></section>` : '') +
    `<section id="timeline"><h2>Timeline</h2><table><tbody>${timeline}</tbody></table></section>` +
    '<p><a class="button" href="/admin">Back to the admin page</a></p>'
  );
}

export function messagePage(message: string, back = '/admin'): string {
  return `<p>${escapeHtml(message)}</p><p><a class="button" href="${escapeHtml(back)}">Back</a></p>`;
}
