// A stand-in Docker Engine on a unix socket, speaking the parts of the
// Engine API Warden uses (no Docker engine runs here). Logs come back in
// the real multiplexed format: 8-byte frame headers, stdout and stderr.
import type { Server } from 'node:http';
import { createServer } from 'node:http';

export type FakeContainer = {
  id: string;
  name: string;
  image: string;
  running: boolean;
  logs: { stream: 1 | 2; line: string }[];
  env?: string[];
};

export type DockerEngineServer = {
  socketPath: string;
  requests: { method: string; url: string }[];
  restarts: string[];
  close(): Promise<void>;
};

function frame(stream: 1 | 2, text: string): Buffer {
  const body = Buffer.from(text);
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(body.length, 4);
  return Buffer.concat([head, body]);
}

export async function startDockerEngineServer(
  socketPath: string,
  containers: FakeContainer[],
): Promise<DockerEngineServer> {
  const requests: DockerEngineServer['requests'] = [];
  const restarts: string[] = [];
  const find = (ref: string) => containers.find((c) => c.id.startsWith(ref) || c.name === ref);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://docker');
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/_ping') return void res.end('OK');
    if (req.method === 'GET' && url.pathname === '/containers/json') {
      const all = url.searchParams.get('all') === '1';
      return json(
        200,
        containers
          .filter((c) => all || c.running)
          .map((c) => ({
            Id: c.id,
            Names: [`/${c.name}`],
            Image: c.image,
            State: c.running ? 'running' : 'exited',
            Status: c.running ? 'Up 2 hours' : 'Exited (1) 5 minutes ago',
          })),
      );
    }
    const m = /^\/containers\/([^/]+)\/(json|logs|restart)$/.exec(url.pathname);
    const c = m && find(decodeURIComponent(m[1]!));
    if (!m || !c) return json(404, { message: `No such container: ${m?.[1] ?? url.pathname}` });
    if (m[2] === 'json' && req.method === 'GET')
      return json(200, {
        Id: c.id,
        Name: `/${c.name}`,
        State: { Status: c.running ? 'running' : 'exited', Running: c.running },
        Config: { Image: c.image, Env: c.env ?? [] },
      });
    if (m[2] === 'logs' && req.method === 'GET') {
      const tail = Number(url.searchParams.get('tail') ?? c.logs.length);
      res.writeHead(200, { 'content-type': 'application/vnd.docker.multiplexed-stream' });
      return void res.end(
        Buffer.concat(c.logs.slice(-tail).map((l) => frame(l.stream, `${l.line}\n`))),
      );
    }
    if (m[2] === 'restart' && req.method === 'POST') {
      restarts.push(c.name);
      c.running = true;
      res.writeHead(204);
      return void res.end();
    }
    json(405, { message: 'method not allowed' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return {
    socketPath,
    requests,
    restarts,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
