import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { redactUrl, type Logger } from '../log.js';

/** Polled every few seconds by probes and Prometheus: logged at debug, so they do not drown the rest. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/** One log line per request, with a request ID; the path is redacted because it holds the webhook secret. */
export function requestLog(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const id = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 64)) || randomUUID();
    res.setHeader('X-Request-Id', id);
    // The request's child logger is made when something logs (most webhooks, at LOG_LEVEL=warn, never do).
    let child: Logger | undefined;
    const logger = (): Logger => (child ??= log.child({ request_id: id }));
    Object.defineProperty(res.locals, 'log', { get: logger, enumerable: true, configurable: true });
    res.on('finish', () => {
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : PROBES.has(req.path) ? 'debug' : 'info';
      if (!log.isLevelEnabled(level)) return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger()[level]({ method: req.method, url: redactUrl(req.originalUrl), status: res.statusCode, ms: Math.round(ms * 100) / 100 }, 'request');
    });
    next();
  };
}
