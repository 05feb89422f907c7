// docker-compose.yml stays the topology the README describes: two or more relays from the same image on one
// PostgreSQL, every one of them behind the proxy, which skips a relay that is down.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Service {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
}

const compose = parse(readFileSync(resolve(import.meta.dirname, '../../docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  configs: { caddyfile: { content: string } };
};

describe('docker-compose.yml', () => {
  const relays = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('kommo-zoho-relay'));

  it('runs at least two relays from the one image the Dockerfile builds, on the compose PostgreSQL', () => {
    expect(relays.length).toBeGreaterThanOrEqual(2);
    expect(new Set(relays.map(([, s]) => s.image))).toEqual(new Set(['kommo-zoho-relay:latest']));
    for (const [, s] of relays) {
      expect(s.build).toBe('.');
      expect(s.environment?.DATABASE_URL).toMatch(/^postgres:\/\/relay:\$\{POSTGRES_PASSWORD[^}]*\}@postgres:5432\/relay$/);
      expect(s.volumes).toContain('./mapping.json:/app/mapping.json:ro');
      expect(s.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    }
  });

  it('puts every relay behind the proxy, which skips one that is down and checks /healthz', () => {
    const caddyfile = compose.configs.caddyfile.content;
    const upstreams = /reverse_proxy ([^{]+)\{/.exec(caddyfile)?.[1]?.trim().split(/\s+/);
    expect(upstreams?.sort()).toEqual(relays.map(([name]) => `${name}:3000`).sort());
    expect(caddyfile).toMatch(/lb_try_duration \d+s/);
    expect(caddyfile).toContain('health_uri /healthz');
  });
});
