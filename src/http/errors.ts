import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../log.js';
import { requestLogger } from './request-log.js';

/** Last middleware: a clear JSON answer for every failure, and never a crash. */
export function errorHandler(log: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; statusCode?: number; type?: string; message?: string; limit?: number };
    const status = e.status ?? e.statusCode ?? 500;
    if (res.headersSent) return;
    if (e.type === 'entity.too.large' || status === 413) {
      res.status(413).json({ error: 'payload_too_large', message: `The request body is larger than the relay accepts (${e.limit ?? '?'} bytes; WEBHOOK_BODY_LIMIT).` });
      return;
    }
    if (status >= 400 && status < 500) {
      res.status(status).json({ error: 'bad_request', message: e.message ?? 'Bad request' });
      return;
    }
    requestLogger(res, log).error({ err }, 'request failed');
    // 5xx tells the sender (Kommo, the accounting backend) to deliver again: nothing was acknowledged.
    res.status(503).json({ error: 'unavailable', message: 'The relay could not store the event; deliver it again later.' });
  };
}
