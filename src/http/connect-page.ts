// Server-rendered HTML of the connection page. Every dynamic value goes through `escapeHtml`; there is no
// script at all, and the status it renders never holds a secret (see connect/status.ts).
import type { Response } from 'express';
import type { ConnectionsStatus, SideStatus } from '../connect/status.js';
import type { Organization } from '../store/connections.js';
import { organizationWord, type AccountingNames } from '../sync/ports.js';

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Sends a page that cannot be framed, cached, run scripts, or leak the callback URL as a referrer. */
export function sendPage(res: Response, status: number, title: string, body: string): void {
  res
    .status(status)
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
    })
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>` +
        `<style>body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#222}section{border:1px solid #ccc;border-radius:6px;padding:0 1rem 1rem;margin:1rem 0}` +
        `dt{font-weight:600;float:left;clear:left;width:13rem}dd{margin:0 0 .3rem 13rem}.ok{color:#176c2b}.no{color:#a11}.error{background:#fdecea;padding:.5rem;border-radius:4px}` +
        `a.button,button{display:inline-block;padding:.4rem .9rem;border:1px solid #555;border-radius:4px;background:#f6f6f6;color:#222;text-decoration:none;font:inherit;cursor:pointer}</style>` +
        `</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
    );
}

/** The login form of every admin page; `action` is where it posts (/connect/login, /admin/login). */
export function loginPage(message?: string, action = '/connect/login', purpose = 'manage its connections'): string {
  return (
    (message ? `<p class="error">${escapeHtml(message)}</p>` : `<p>Enter the relay's ADMIN_TOKEN to ${escapeHtml(purpose)}.</p>`) +
    `<form method="post" action="${escapeHtml(action)}"><label>Admin token <input type="password" name="token" autocomplete="current-password" required minlength="32"></label> <button type="submit">Log in</button></form>`
  );
}

export function connectionPage(status: ConnectionsStatus): string {
  const mapping =
    status.mapping.state === 'waiting_for_kommo'
      ? '<p class="no">The mapping waits for Kommo: connect Kommo, and the webhooks stored meanwhile are processed.</p>'
      : `<p>Mapping ${status.mapping.state === 'cached' ? '(last resolution, Kommo not reachable now)' : 'resolved'}: invoices for ${escapeHtml(status.mapping.stages.join(', ') || 'no stage')}.</p>`;
  return (
    side('Kommo', 'kommo', status.kommo) +
    side(status.accounting.names.system, status.accounting.names.id, status.accounting.status, status.accounting.names) +
    mapping +
    '<form method="post" action="/connect/logout"><button type="submit">Log out</button></form>'
  );
}

function side(title: string, path: string, s: SideStatus, accounting?: AccountingNames): string {
  const rows: Array<[string, string | undefined]> = [
    ['Status', s.connected ? '<span class="ok">connected</span>' : '<span class="no">not connected</span>'],
    ['Method', escapeHtml(s.method)],
    ['Data centre', s.dataCentre && escapeHtml(s.dataCentre)],
    ['API domain', s.apiDomain && escapeHtml(s.apiDomain)],
    [accounting ? capitalised(organizationWord(accounting)) : 'Organization', s.organization && `${escapeHtml(s.organization.name)} (${escapeHtml(s.organization.id)})`],
    ['Account', s.account && escapeHtml(s.account)],
    ['Access token expires', s.accessTokenExpiresAt && escapeHtml(s.accessTokenExpiresAt)],
    ['Refresh token expires', s.refreshTokenExpiresAt && escapeHtml(s.refreshTokenExpiresAt)],
    ['Last error', s.lastError && `<span class="error">${escapeHtml(s.lastError.message)}${s.lastError.at ? ` (${escapeHtml(s.lastError.at)})` : ''}</span>`],
  ];
  const list = rows
    .filter((r): r is [string, string] => r[1] !== undefined)
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${v}</dd>`)
    .join('');
  const action = s.connectUnavailable
    ? `<p>${escapeHtml(s.connectUnavailable)}</p>`
    : `<p><a class="button" href="/connect/${path}">${s.connected ? 'Reconnect' : 'Connect'} ${escapeHtml(title)}</a></p>`;
  return `<section id="${path}"><h2>${escapeHtml(title)}</h2><dl>${list}</dl>${s.chooseFrom && accounting ? organizationPicker(s.chooseFrom, accounting) : ''}${action}</section>`;
}

export function organizationPicker(organizations: Organization[], accounting: AccountingNames): string {
  const options = organizations
    .map((o, i) => `<label><input type="radio" name="organization_id" value="${escapeHtml(o.id)}"${i === 0 ? ' checked' : ''}> ${escapeHtml(o.name)} (${escapeHtml(o.id)})</label><br>`)
    .join('');
  return `<form method="post" action="/connect/${escapeHtml(accounting.id)}/organization"><p>This ${escapeHtml(accounting.short)} account has several ${escapeHtml(accounting.organization)}s. Which one should the relay work in?</p>${options}<p><button type="submit">Use this ${escapeHtml(organizationWord(accounting))}</button></p></form>`;
}

const capitalised = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

export function outcomePage(message: string, extra: { problem?: string; chooseFrom?: Organization[]; accounting?: AccountingNames } = {}): string {
  return (
    `<p>${escapeHtml(message)}</p>` +
    (extra.problem ? `<p class="error">${escapeHtml(extra.problem)}</p>` : '') +
    (extra.chooseFrom && extra.accounting ? organizationPicker(extra.chooseFrom, extra.accounting) : '') +
    '<p><a class="button" href="/connect">Back to the connection page</a></p>'
  );
}
