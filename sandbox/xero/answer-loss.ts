// "The work was done but the answer never arrived": the next matching calls run in full (the invoice is
// created, its webhook fires, an Idempotency-Key remembers the answer) and then the connection is cut
// instead of answering. This is the uncertain create a client must resolve by retrying with the same
// Idempotency-Key or by looking the record up (where=Reference=="…"), unlike FaultInjector's faults,
// which refuse a call before any work is done.
import type { NextFunction, Request, Response } from 'express';

export interface LostAnswer {
  status: number;
  contentType?: string;
  body?: string | Buffer;
}

interface Filter {
  method?: string;
  path?: RegExp;
}

export class AnswerLoss {
  private queue: Filter[] = [];
  readonly lost: Array<{ at: number; method: string; path: string; status: number }> = [];

  /** The next `count` calls matching `filter` (method, and a pattern on the path under /api.xro/2.0). */
  loseNext(count: number, filter: Filter = {}): void {
    for (let i = 0; i < count; i++) this.queue.push(filter);
  }

  reset(): void {
    this.queue = [];
  }

  middleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      const i = this.queue.findIndex((f) => (!f.method || f.method.toUpperCase() === req.method) && (!f.path || f.path.test(req.path)));
      if (i < 0) return next();
      this.queue.splice(i, 1);
      const cut = (body?: unknown) => {
        const answer: LostAnswer = { status: res.statusCode };
        const type = res.get('content-type');
        if (type) answer.contentType = String(type);
        if (typeof body === 'string' || Buffer.isBuffer(body)) answer.body = body;
        res.locals.lostAnswer = answer;
        this.lost.push({ at: Date.now(), method: req.method, path: req.path, status: res.statusCode });
        res.socket?.destroy();
        return res;
      };
      res.send = cut as Response['send'];
      res.end = cut as Response['end'];
      next();
    };
  }
}
