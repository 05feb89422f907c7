// Idempotency-Key on PUT/POST (max 128 characters): within the window, the same key with the same request
// gets the first answer again without doing the work twice; the same key with another request is 400.
// A request arriving while the first with its key is still running waits for that one's answer.
// Answers of 5xx are not kept, so a retry after a server error does the work (shared/reference/xero.md,
// "Limits and formats", citing developer.xero.com/documentation/guides/idempotent-requests; window ~6 min).
import type { NextFunction, Request, Response } from 'express';
import type { LostAnswer } from './answer-loss.js';
import { refuse, sendError } from './errors.js';
import type { Tenant } from './state.js';
import type { Clock } from './time.js';

interface Entry {
  fingerprint: string;
  at: number;
  done: Promise<void>;
  answer?: { status: number; contentType?: string; body?: string | Buffer };
}

const MAX_KEY = 128;
const MAX_ENTRIES = 10_000;

export class IdempotencyStore {
  private entries = new Map<string, Entry>();
  /** Requests answered from the store, for tests. */
  replays = 0;

  constructor(
    private readonly clock: Clock,
    readonly windowMs: number,
  ) {}

  middleware() {
    return async (req: Request, res: Response, next: NextFunction) => {
      const key = req.get('idempotency-key');
      if (key === undefined || (req.method !== 'PUT' && req.method !== 'POST')) return next();
      if (key.length === 0 || key.length > MAX_KEY) return sendError(res, refuse(`Idempotency-Key must be 1 to ${MAX_KEY} characters long`));
      const now = this.clock.now();
      this.evict(now);
      const id = `${(res.locals.tenant as Tenant).tenantId}\n${key}`;
      const fingerprint = `${req.method} ${req.path.toLowerCase()} ${JSON.stringify(req.query)} ${JSON.stringify(req.body ?? null)}`;
      const seen = this.entries.get(id);
      if (seen) {
        if (seen.fingerprint !== fingerprint) {
          return sendError(res, refuse(`The Idempotency-Key ${key} has already been used with a different request`));
        }
        await seen.done;
        const answer = this.entries.get(id)?.answer;
        if (answer) {
          this.replays++;
          if (answer.contentType) res.type(answer.contentType);
          res.status(answer.status);
          return void (answer.body === undefined ? res.end() : res.send(answer.body));
        }
        // The first attempt failed with a 5xx and was forgotten: this one does the work.
      }
      let finished!: () => void;
      const entry: Entry = { fingerprint, at: now, done: new Promise<void>((resolve) => (finished = resolve)) };
      this.entries.set(id, entry);
      let body: string | Buffer | undefined;
      const send = res.send.bind(res);
      res.send = (chunk?: unknown) => {
        if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) body = chunk;
        return send(chunk);
      };
      let settled = false;
      const settle = () => {
        if (settled) return;
        settled = true;
        const lost = res.locals.lostAnswer as LostAnswer | undefined;
        // An answer cut off after the work was done (./answer-loss.ts) is remembered like a delivered one.
        if (lost && lost.status < 500) entry.answer = lost;
        else if (res.statusCode >= 500 || !res.writableFinished) this.entries.delete(id);
        else entry.answer = { status: res.statusCode, ...(res.get('content-type') ? { contentType: String(res.get('content-type')) } : {}), ...(body !== undefined ? { body } : {}) };
        finished();
      };
      res.once('finish', settle);
      res.once('close', settle);
      next();
    };
  }

  private evict(now: number): void {
    for (const [id, e] of this.entries) {
      if (now - e.at < this.windowMs && this.entries.size <= MAX_ENTRIES) break;
      this.entries.delete(id);
    }
  }
}
