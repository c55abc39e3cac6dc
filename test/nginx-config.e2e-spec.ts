import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  NGINX_TEMPLATE,
  ensureNginx,
  freePort,
  renderNginxConf,
  upstreamServers,
} from '../scripts/cluster.mjs';
import { readYaml, REPO } from './helpers/manifests.js';

/**
 * The shipped nginx template (docker/nginx.conf, rendered as compose and the
 * cluster scripts render it) in front of an upstream that records what
 * reaches it: /metrics and /docs never do, whatever the spelling.
 */
describe('the shipped nginx config', () => {
  let dir: string;
  let conf: string;
  let nginxBin: string;
  let nginx: ChildProcess;
  let upstream: Server;
  let port: number;
  const reached: string[] = [];

  beforeAll(async () => {
    nginxBin = ensureNginx();
    dir = mkdtempSync(join(tmpdir(), 'mp-nginx-'));
    mkdirSync(join(dir, 'temp'));
    upstream = createServer((req, res) => {
      reached.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      res.end('{"code":0,"message":"ok","data":null,"requestId":"u"}');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const upstreamPort = (upstream.address() as { port: number }).port;
    port = await freePort();
    conf = join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      renderNginxConf(readFileSync(NGINX_TEMPLATE, 'utf8'), {
        NGINX_LISTEN: `127.0.0.1:${port}`,
        NGINX_UPSTREAM_SERVERS: upstreamServers([upstreamPort], 1000),
        NGINX_RESOLVER: '',
        NGINX_CLIENT_MAX_BODY: '262144',
        NGINX_PID: join(dir, 'nginx.pid'),
        NGINX_ERROR_LOG: join(dir, 'error.log'),
        NGINX_ACCESS_LOG: join(dir, 'access.log'),
        NGINX_TEMP_DIR: join(dir, 'temp'),
      }),
    );
    nginx = spawn(
      nginxBin,
      ['-p', dir, '-c', conf, '-e', join(dir, 'error.log'), '-g', 'daemon off;'],
      {
        stdio: 'ignore',
      },
    );
    for (
      let i = 0;
      i < 100 && (await get('/health/live').catch(() => undefined)) === undefined;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  afterAll(async () => {
    nginx?.kill('SIGTERM');
    await new Promise((r) => upstream?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A raw GET: the path goes on the wire exactly as written (no client normalisation). */
  function get(path: string): Promise<{ status: number; body: string; requestId?: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            requestId: res.headers['x-request-id'] as string | undefined,
          }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('passes nginx -t', () => {
    const out = execFileSync(
      nginxBin,
      ['-t', '-p', dir, '-c', conf, '-e', join(dir, 'error.log')],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    expect(out).toBe('');
  });

  it("renders with docker/compose.yml's own values, which agree with the app's, and passes nginx -t", () => {
    const compose = readYaml(join(REPO, 'docker/compose.yml')) as {
      services: Record<
        string,
        {
          environment: Record<string, string>;
          networks?: Record<string, { ipv4_address?: string }>;
        }
      >;
    };
    const vars = { ...compose.services.nginx.environment };
    const template = readFileSync(NGINX_TEMPLATE, 'utf8');
    // compose sets every placeholder (the image's envsubst would leave a gap as is).
    for (const [, name] of template.matchAll(/\$\{(NGINX_[A-Z_]+)\}/g))
      expect(vars, name).toHaveProperty(name);
    const app = compose.services.app.environment;
    expect(vars.NGINX_CLIENT_MAX_BODY).toBe(app.BODY_LIMIT_BYTES);
    expect(app.TRUST_PROXY).toBe(compose.services.nginx.networks?.backend.ipv4_address);
    const failTimeoutS = Number(/fail_timeout=(\d+)s/.exec(vars.NGINX_UPSTREAM_SERVERS)?.[1]);
    expect(failTimeoutS * 1000).toBeGreaterThan(Number(app.SHUTDOWN_DRAIN_MS));
    expect(vars.NGINX_UPSTREAM_SERVERS).toMatch(/^server app:3000 /);

    // Only what belongs to the container moves: its files, and, on an nginx
    // older than 1.27.3 (Debian's), `resolve` and Docker's service name.
    // `nginx -v` prints `nginx version: nginx/1.22.1` on stderr.
    const version = spawnSync(nginxBin, ['-v'], { encoding: 'utf8' }).stderr;
    const [major, minor, patch] = (/nginx\/(\d+)\.(\d+)\.(\d+)/.exec(version) ?? [])
      .slice(1)
      .map(Number);
    const resolves = major > 1 || (major === 1 && (minor > 27 || (minor === 27 && patch >= 3)));
    const composeDir = join(dir, 'compose');
    mkdirSync(join(composeDir, 'temp'), { recursive: true });
    Object.assign(vars, {
      NGINX_PID: join(composeDir, 'nginx.pid'),
      NGINX_ERROR_LOG: join(composeDir, 'error.log'),
      NGINX_ACCESS_LOG: join(composeDir, 'access.log'),
      NGINX_TEMP_DIR: join(composeDir, 'temp'),
    });
    if (!resolves)
      vars.NGINX_UPSTREAM_SERVERS = vars.NGINX_UPSTREAM_SERVERS.replace(
        'app:3000 resolve',
        '127.0.0.1:3000',
      );
    const composeConf = join(composeDir, 'nginx.conf');
    writeFileSync(composeConf, renderNginxConf(template, vars));
    const check = spawnSync(
      nginxBin,
      ['-t', '-p', composeDir, '-c', composeConf, '-e', vars.NGINX_ERROR_LOG],
      {
        encoding: 'utf8',
      },
    );
    expect(check.status, check.stderr).toBe(0);
  });

  it.each([
    '/metrics',
    '/metrics/',
    '/metrics?x=1',
    '/METRICS',
    '/%6detrics',
    '//metrics',
    '/api/../metrics',
    '/docs',
    '/docs/json',
    '/docs/static/index.html',
    '/%64ocs/json',
    '/api/../docs/json',
  ])('refuses %s with 404/40400 in the envelope, and the upstream never sees it', async (path) => {
    reached.length = 0;
    const res = await get(path);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ code: 40400, requestId: res.requestId });
    expect(reached).toEqual([]);
  });

  it('still passes everything else to the app', async () => {
    reached.length = 0;
    // The staff console's files and its sign-in routes too (docs/console.md).
    const paths = [
      '/health/live',
      '/api/v1/products',
      '/api/v1/docs-like',
      '/metricsx',
      '/console/',
      '/console/assets/index-abc123.js',
      '/console/login-tickets/AAAAAAAAAAAAAAAAAAAAAA',
    ];
    for (const path of paths) expect((await get(path)).status, path).toBe(200);
    expect(reached).toEqual(paths);
  });
});
