// Several relays behind one address, as Caddy or nginx put them (docker-compose.yml): each request goes to
// the next relay in turn; a relay that refuses the connection (stopped, killed) is skipped for the next one,
// as nginx's proxy_next_upstream and Caddy's lb_try_duration do. Bodies are buffered: webhooks are small.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Balancer {
  url: string;
  /** Requests forwarded to each upstream, by its URL. */
  forwarded: Map<string, number>;
  close(): Promise<void>;
}

export async function startBalancer(upstreams: string[]): Promise<Balancer> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const forwarded = new Map(upstreams.map((u) => [u, 0]));
  let next = 0;
  const forward = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse, tried: number) => {
    const target = new URL(upstreams[next++ % upstreams.length]!);
    // Hop-by-hop headers stay on the client's connection: upstream connections are kept alive, as Caddy and
    // nginx keep theirs (Kommo sends `Connection: close`; passing it on would open a connection per webhook).
    const { connection: _c, 'keep-alive': _k, ...headers } = req.headers;
    const up = http.request(
      { agent, hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...headers, host: target.host, 'content-length': String(body.length) } },
      (answer) => {
        forwarded.set(target.origin, (forwarded.get(target.origin) ?? 0) + 1);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED' && tried + 1 < upstreams.length) return forward(req, body, res, tried + 1);
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    up.end(body);
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => forward(req, Buffer.concat(chunks), res, 0));
  });
  server.maxConnections = 8192;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
