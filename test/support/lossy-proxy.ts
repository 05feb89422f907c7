// A loopback HTTP proxy that forwards to `target` and, for requests `dropAnswer` picks, lets the
// upstream act on the request and then destroys the client's socket: "the write happened, the answer
// was lost" — the case only an intent record plus a lookup can get right.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LossyProxy {
  url: string;
  dropped: number;
  close(): Promise<void>;
}

export async function startLossyProxy(target: string, dropAnswer: (method: string, path: string) => boolean): Promise<LossyProxy> {
  const upstream = new URL(target);
  const proxy: LossyProxy = { url: '', dropped: 0, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const fwd = http.request(
      { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (up) => {
        if (dropAnswer(req.method ?? '', (req.url ?? '').split('?')[0]!)) {
          proxy.dropped++;
          up.resume();
          up.on('end', () => res.socket?.destroy());
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    fwd.on('error', () => res.socket?.destroy());
    req.pipe(fwd);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
