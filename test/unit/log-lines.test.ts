// The checker every e2e run applies to the relay's log lines (test/support/e2e.ts): it must catch a repeated
// key, a line that is not JSON, and a line whose `service` is not the application's name.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { logLineProblems, topLevelKeys } from '../support/log-lines.js';

describe('log line checker', () => {
  it('lists top-level keys only, repeats included, through nested objects, arrays and escaped quotes', () => {
    expect(topLevelKeys('{"a":1,"b":{"a":2,"c":[{"a":3}]},"s":"x\\",\\"a\\":","a":4}')).toEqual(['a', 'b', 's', 'a']);
  });

  it('reports a repeated key, a non-JSON line and a foreign service', () => {
    expect(
      logLineProblems(['{"service":"kommo-zoho-relay","service":"kommo","msg":"x"}', 'plain text', '{"service":"other"}', '{"service":"kommo-zoho-relay"}']),
    ).toEqual([
      'line 1: "service" twice: {"service":"kommo-zoho-relay","service":"kommo","msg":"x"}',
      'line 1: service is "kommo", not "kommo-zoho-relay"',
      'line 2: not JSON: plain text',
      'line 3: service is "other", not "kommo-zoho-relay"',
    ]);
  });

  it("pino repeats a key bound twice, which is why the relay's loggers name parts `component`", () => {
    const lines: string[] = [];
    const log = createLogger({ destination: { write: (l: string) => void lines.push(l) } });
    log.child({ deal_id: 1 }).child({ deal_id: 1 }).info('twice');
    log.child({ component: 'worker' }).child({ deal_id: 1 }).info({ job_id: 7 }, 'once each');
    expect(logLineProblems(lines)).toEqual([expect.stringContaining('"deal_id" twice')]);
  });
});
