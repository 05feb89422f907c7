import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { redactUrl, type Logger } from '../log.js';

/** Polled every few seconds by probes and Prometheus: logged at debug, so they do not drown the rest. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The request's child logger (with its request ID), made the first time something logs: most webhooks,
 * at LOG_LEVEL=warn, never do. An object in a data property, not a getter closure defined on `res.locals`
 * per request: such accessors kept every request's objects alive past the young generation (measured:
 * 21 % of what a webhook allocates survived a scavenge with it, under 1 % without), and the promoted
 * garbage brought old-generation collections of 5-10 ms into the webhook path.
 */
class RequestLogger {
  private child: Logger | undefined;

  constructor(
    private readonly base: Logger,
    private readonly id: string,
  ) {}

  get(): Logger {
    return (this.child ??= this.base.child({ request_id: this.id }));
  }
}

/** The logger for what happens while handling `res`'s request; `fallback` outside the request log. */
export function requestLogger(res: Response, fallback: Logger): Logger {
  const r: unknown = res.locals.requestLogger;
  return r instanceof RequestLogger ? r.get() : fallback;
}

/** One log line per request, with a request ID; the path is redacted because it holds the webhook secret. */
export function requestLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const id = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 64)) || randomUUID();
    res.setHeader('X-Request-Id', id);
    const logger = new RequestLogger(log, id);
    res.locals.requestLogger = logger;
    res.on('finish', () => {
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : PROBES.has(req.path) ? 'debug' : 'info';
      if (!log.isLevelEnabled(level)) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.get()[level]({ method: req.method, url: redactUrl(req.originalUrl), status: res.statusCode, ms: Math.round(ms * 100) / 100 }, 'request');
    });
    next();
  };
}
