// The day of a day quota in its time zone, and which of Zoho's 429 answers mean "the day's calls are used up".
import type { AxiosResponse } from 'axios';
import { describe, expect, it } from 'vitest';
import { zohoDayLimitReached } from '../../src/accounting/zoho/client.js';
import { zohoSettingsSchema } from '../../src/accounting/zoho/settings.js';
import { checkTimeZone, dayOf } from '../../src/net/day-budget.js';

describe('dayOf', () => {
  it('names the local date and ends it at the next local midnight, also across a DST change', () => {
    expect(dayOf(Date.parse('2026-12-06T10:00:00Z'), 'UTC')).toEqual({ day: '2026-12-06', resetsAt: Date.parse('2026-12-07T00:00:00Z') });
    // 23:30 UTC is already the next day in Berlin (UTC+1 in winter).
    expect(dayOf(Date.parse('2026-12-06T23:30:00Z'), 'Europe/Berlin')).toEqual({ day: '2026-12-07', resetsAt: Date.parse('2026-12-07T23:00:00Z') });
    // Berlin goes to summer time on 2026-03-29 at 02:00: that day has 23 hours, and ends at 22:00 UTC.
    expect(dayOf(Date.parse('2026-03-29T00:30:00Z'), 'Europe/Berlin')).toEqual({ day: '2026-03-29', resetsAt: Date.parse('2026-03-29T22:00:00Z') });
    // New York leaves summer time on 2026-11-01: a 25-hour day.
    expect(dayOf(Date.parse('2026-11-01T12:00:00Z'), 'America/New_York')).toEqual({ day: '2026-11-01', resetsAt: Date.parse('2026-11-02T05:00:00Z') });
    expect(dayOf(Date.parse('2026-12-06T10:00:00Z'), 'Asia/Kolkata')).toEqual({ day: '2026-12-06', resetsAt: Date.parse('2026-12-06T18:30:00Z') });
  });

  it('knows IANA time zones and refuses others', () => {
    expect([checkTimeZone('UTC'), checkTimeZone('Europe/Berlin'), checkTimeZone('Mars/Olympus'), checkTimeZone('')]).toEqual([true, true, false, false]);
  });
});

describe("Zoho's 429 answers", () => {
  const answer = (body: unknown, headers: Record<string, string> = {}) => ({ status: 429, data: body, headers }) as unknown as AxiosResponse;
  it('the day limit: code 1070, a message about the day, or a reset further off than any minute window', () => {
    expect(zohoDayLimitReached(answer({ code: 1070, message: 'x' }))).toBe(true);
    expect(zohoDayLimitReached(answer({ code: 44, message: 'The API call limit per day has been reached.' }))).toBe(true);
    expect(zohoDayLimitReached(answer({ code: 44, message: 'x' }, { 'x-rate-limit-reset': '36000' }))).toBe(true);
  });
  it('the minute limit and anything else are not', () => {
    expect(zohoDayLimitReached(answer({ code: 45, message: 'You have made too many requests continuously. Please try again after some time.' }, { 'x-rate-limit-reset': '42' }))).toBe(false);
    expect(zohoDayLimitReached(answer('not json'))).toBe(false);
    expect(zohoDayLimitReached(answer(undefined))).toBe(false);
  });
});

describe('ZOHO_DAILY_LIMIT and its time zone', () => {
  const base = { ZOHO_CLIENT_ID: 'id', ZOHO_CLIENT_SECRET: 'secret' };
  const parse = (extra: Record<string, string>) => zohoSettingsSchema.safeParse({ ...base, ...extra });
  it('off by default (counted, not limited), in UTC; a number of calls; an IANA zone', () => {
    expect(parse({}).data).toMatchObject({ ZOHO_DAILY_LIMIT: undefined, ZOHO_DAILY_LIMIT_TIME_ZONE: 'UTC' });
    expect(parse({ ZOHO_DAILY_LIMIT: 'off' }).data?.ZOHO_DAILY_LIMIT).toBeUndefined();
    expect(parse({ ZOHO_DAILY_LIMIT: '1000', ZOHO_DAILY_LIMIT_TIME_ZONE: 'America/Los_Angeles' }).data).toMatchObject({ ZOHO_DAILY_LIMIT: 1000, ZOHO_DAILY_LIMIT_TIME_ZONE: 'America/Los_Angeles' });
  });
  it('refuses what is neither, with a message that says what is expected', () => {
    expect(parse({ ZOHO_DAILY_LIMIT: 'lots' }).error?.issues[0]?.message).toMatch(/whole number of calls per day, or 'off'/);
    expect(parse({ ZOHO_DAILY_LIMIT: '0' }).success).toBe(false);
    expect(parse({ ZOHO_DAILY_LIMIT_TIME_ZONE: 'CET+1' }).error?.issues[0]?.message).toMatch(/IANA time zone/);
  });
});
