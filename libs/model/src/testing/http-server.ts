/** Test helper: a local HTTP server for download tests, with the hostile answers they need. */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface TestHttpServer {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  /** Every request's path, in order. */
  readonly requests: string[];
  /** Drops open connections (silent answers included) and stops the server. */
  close(): Promise<void>;
}

/** Listens on a free port of 127.0.0.1 with `handle`; a request it leaves unanswered stays open until `close`. */
export async function startTestHttpServer(handle: http.RequestListener): Promise<TestHttpServer> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    handle(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers 200 with `chunk` repeated for ever (chunked, no Content-Length): only a counted stream can stop it. */
export function streamEndlessly(res: http.ServerResponse, chunk: Buffer): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const pump = (): void => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', pump);
  };
  pump();
}
