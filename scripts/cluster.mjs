// The multi-replica topology of docker/compose.yml on one machine, without
// Docker: N app processes (the built app, `node dist/src/main.js`) on loopback
// ports behind a real nginx rendered from docker/nginx.conf. Used by
// `npm run cluster:local` (scripts/cluster-local.mjs), the e2e suite
// (test/cluster.e2e-spec.ts) and bench/cluster.bench.mjs, so all three run
// exactly the same code. Types: scripts/cluster.d.mts.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnection } from 'mysql2/promise';
import { freePort } from './free-port.mjs';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const NGINX_TEMPLATE = join(ROOT, 'docker', 'nginx.conf');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const DATA_SOURCE = join(ROOT, 'dist', 'src', 'data-source.js');
const TYPEORM_CLI = join(ROOT, 'node_modules', 'typeorm', 'cli.js');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export { freePort };

/**
 * nginx's fail_timeout for a given drain: a draining replica answers one GET
 * with 503 and must then get nothing more until its listener has closed, so
 * the window is the whole drain with a margin (README, "Zero-downtime restarts").
 */
export function failTimeoutSeconds(drainMs) {
  return Math.max(2, Math.ceil((2 * drainMs) / 1000));
}

/**
 * Fills the ${NAME} placeholders of docker/nginx.conf, as envsubst does in the
 * nginx image. Every placeholder must be given: a forgotten one would reach
 * nginx as a literal and fail far from here.
 */
export function renderNginxConf(template, vars) {
  const text = template.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name) => {
    if (!(name in vars)) throw new Error(`nginx template: no value for \${${name}}`);
    return vars[name];
  });
  return text;
}

/** The `server` lines of the upstream block for replicas on loopback ports. */
export function upstreamServers(ports, drainMs) {
  const failTimeout = failTimeoutSeconds(drainMs);
  return ports
    .map((port) => `server 127.0.0.1:${port} max_fails=1 fail_timeout=${failTimeout}s;`)
    .join('\n        ');
}

/**
 * The nginx binary; installs the Debian package when it is missing (needs
 * root, or sudo).
 */
export function ensureNginx() {
  const candidates = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'];
  const found = candidates.find((path) => existsSync(path));
  if (found) return found;
  const root = process.getuid?.() === 0;
  const run = (args) =>
    execFileSync(root ? args[0] : 'sudo', root ? args.slice(1) : args, {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  process.stderr.write('nginx not found: installing the Debian package\n');
  run(['apt-get', 'update']);
  run(['apt-get', 'install', '-y', '--no-install-recommends', 'nginx']);
  const installed = candidates.find((path) => existsSync(path));
  if (!installed) throw new Error('nginx is still missing after apt-get install nginx');
  return installed;
}

async function adminQuery(mysqlUrl, statement) {
  const conn = await createConnection(mysqlUrl);
  try {
    await conn.query(statement);
  } finally {
    await conn.end();
  }
}

/** Creates (or recreates) a database and returns its URL. */
export async function createDatabase(mysqlUrl, name) {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new Error(`bad database name: ${name}`);
  await adminQuery(mysqlUrl, `DROP DATABASE IF EXISTS \`${name}\``);
  await adminQuery(
    mysqlUrl,
    `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
  );
  return `${mysqlUrl.replace(/\/+$/, '')}/${name}`;
}

export async function dropDatabase(mysqlUrl, name) {
  await adminQuery(mysqlUrl, `DROP DATABASE IF EXISTS \`${name}\``);
}

/**
 * Applies the migrations once, through the TypeORM CLI on the built data
 * source: the same command as `npm run migration:run` and the compose
 * `migrate` job.
 */
export function migrate(env) {
  execFileSync(process.execPath, [TYPEORM_CLI, '-d', DATA_SOURCE, 'migration:run'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function waitFor(what, check, timeoutMs, failed) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const reason = failed?.();
    if (reason) throw new Error(`${what}: ${reason}`);
    try {
      if (await check()) return;
    } catch {
      // not answering yet
    }
    await sleep(50);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

async function answers(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.ok;
}

class Replica {
  constructor(index, port, env, output, kind = 'app') {
    this.index = index;
    this.port = port;
    this.env = env;
    this.output = output;
    this.kind = kind;
    this.child = undefined;
    this.tail = '';
  }

  get name() {
    return `${this.kind}${this.index + 1}`;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid() {
    return this.child?.pid;
  }

  get running() {
    return this.child !== undefined && this.child.exitCode === null && !this.child.signalCode;
  }

  async start(cpus) {
    const command = cpus ? 'taskset' : process.execPath;
    const args = cpus ? ['-c', cpus, process.execPath, MAIN] : [MAIN];
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, ...this.env, PORT: String(this.port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: a Ctrl-C in the terminal reaches only the script,
      // which then stops the replicas in order (drain first, nginx last).
      detached: true,
    });
    this.child = child;
    this.tail = '';
    const collect = (chunk) => {
      const text = chunk.toString();
      this.tail = (this.tail + text).slice(-4000);
      this.output?.(this.name, text);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const exitedEarly = () =>
      child.exitCode !== null || child.signalCode
        ? `exited (${child.exitCode ?? child.signalCode}): ${this.tail}`
        : undefined;
    await waitFor(
      `${this.name} readiness`,
      () => answers(`${this.url}/health/ready`),
      30_000,
      exitedEarly,
    );
  }

  /** Sends the signal and waits for the process to exit (bounded). */
  async stop(signal = 'SIGTERM', timeoutMs = 30_000) {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    const timer = sleep(timeoutMs).then(() => 'timeout');
    if ((await Promise.race([exited, timer])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`${this.name} did not exit within ${timeoutMs} ms after ${signal}`);
    }
  }
}

/**
 * Starts N replicas and nginx in front of them. Every app gets `env` plus its
 * PORT, HOST=127.0.0.1 and TRUST_PROXY=127.0.0.1 (nginx's address).
 *
 *   const cluster = await startCluster({ replicas: 3, env });
 *   cluster.url                    // http://127.0.0.1:<nginx port>
 *   await cluster.restartReplica(0) // SIGTERM, restart on its port, wait until nginx takes it back
 *   await cluster.stop()
 */
export async function startCluster(options) {
  const count = options.replicas ?? 3;
  const drainMs = Number(options.env.SHUTDOWN_DRAIN_MS ?? 5000);
  const bodyLimit = Number(options.env.BODY_LIMIT_BYTES ?? 262144);
  if (!existsSync(MAIN))
    throw new Error('build first: npx nest build (dist/src/main.js is missing)');
  const nginxBin = options.nginx ?? ensureNginx();
  const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'mp-cluster-'));
  mkdirSync(join(workDir, 'temp'), { recursive: true });
  const nginxPort = options.nginxPort ?? (await freePort());
  const ports = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const env = { ...options.env, TRUST_PROXY: '127.0.0.1' };
  // With workers, the replicas behind nginx serve the API only and the
  // workers (not behind nginx) run the background jobs.
  const workerPorts = [];
  for (let i = 0; i < (options.workers ?? 0); i++) workerPorts.push(await freePort());
  const appEnv = workerPorts.length > 0 ? { ...env, WORKER_MODE: 'http' } : env;
  const replicas = ports.map((port, i) => new Replica(i, port, appEnv, options.output));
  const workers = workerPorts.map(
    (port, i) => new Replica(i, port, { ...env, WORKER_MODE: 'worker' }, options.output, 'worker'),
  );

  const accessLog = join(workDir, 'access.log');
  const conf = renderNginxConf(readFileSync(NGINX_TEMPLATE, 'utf8'), {
    NGINX_LISTEN: `127.0.0.1:${nginxPort}`,
    NGINX_UPSTREAM_SERVERS: upstreamServers(ports, drainMs),
    NGINX_RESOLVER: '',
    NGINX_CLIENT_MAX_BODY: String(bodyLimit),
    NGINX_PID: join(workDir, 'nginx.pid'),
    NGINX_ERROR_LOG: join(workDir, 'error.log'),
    NGINX_ACCESS_LOG: accessLog,
    NGINX_TEMP_DIR: join(workDir, 'temp'),
  });
  const confPath = join(workDir, 'nginx.conf');
  writeFileSync(confPath, conf);

  let nginx;
  const stopAll = () => {
    for (const r of [...replicas, ...workers]) if (r.running) r.child.kill('SIGKILL');
    if (nginx && nginx.exitCode === null) nginx.kill('SIGKILL');
  };
  // A crashed test or script must not leave servers behind.
  process.once('exit', stopAll);

  try {
    await Promise.all(replicas.map((r, i) => r.start(options.cpus?.[i])));
    await Promise.all(workers.map((w) => w.start()));
    const nginxArgs = ['-p', workDir, '-c', confPath, '-e', join(workDir, 'error.log')];
    nginxArgs.push('-g', 'daemon off;');
    nginx = spawn(
      options.nginxCpus ? 'taskset' : nginxBin,
      options.nginxCpus ? ['-c', options.nginxCpus, nginxBin, ...nginxArgs] : nginxArgs,
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    let nginxOutput = '';
    nginx.stderr.on('data', (c) => (nginxOutput += c.toString()));
    await waitFor(
      'nginx',
      () => answers(`http://127.0.0.1:${nginxPort}/health/live`),
      10_000,
      () => (nginx.exitCode !== null ? `exited: ${nginxOutput}` : undefined),
    );
  } catch (err) {
    stopAll();
    process.removeListener('exit', stopAll);
    throw err;
  }

  return {
    url: `http://127.0.0.1:${nginxPort}`,
    nginxPort,
    workDir,
    accessLog,
    replicas,
    workers,
    /**
     * Graceful restart in place: SIGTERM, wait for the drain and exit, start
     * again on the same port, then wait until nginx routes to it again. Its
     * drain made nginx mark it failed for fail_timeout (longer again if nginx
     * tried it while it was booting); restarting the next replica before it is
     * back could leave nginx with no replica at all.
     */
    async restartReplica(i) {
      await replicas[i].stop('SIGTERM');
      await replicas[i].start(options.cpus?.[i]);
      await this.waitUntilRouted(i);
    },
    /** Sends probes through nginx until one of them is answered by replica `i`. */
    async waitUntilRouted(i) {
      const servedBy = new RegExp(
        `upstream=(?:\\S+, )*127\\.0\\.0\\.1:${replicas[i].port} ustatus=200 `,
      );
      const from = this.accessLogLines().length;
      const deadline = Date.now() + drainMs + 3 * failTimeoutSeconds(drainMs) * 1000 + 5000;
      while (Date.now() < deadline) {
        await fetch(`${this.url}/health/live`).catch(() => undefined);
        if (
          this.accessLogLines()
            .slice(from)
            .some((l) => servedBy.test(l))
        )
          return;
        await sleep(100);
      }
      throw new Error(`nginx did not route to ${replicas[i].name} again`);
    },
    async killReplica(i, signal = 'SIGKILL') {
      await replicas[i].stop(signal);
    },
    async startReplica(i) {
      await replicas[i].start(options.cpus?.[i]);
    },
    /** nginx's access log lines (one per client request, with the replicas tried). */
    accessLogLines() {
      return existsSync(accessLog)
        ? readFileSync(accessLog, 'utf8')
            .split('\n')
            .filter((l) => l.length > 0)
        : [];
    },
    async stop() {
      process.removeListener('exit', stopAll);
      await Promise.allSettled([...replicas, ...workers].map((r) => r.stop('SIGTERM')));
      if (nginx && nginx.exitCode === null) {
        const exited = new Promise((resolve) => nginx.once('exit', resolve));
        nginx.kill('SIGQUIT');
        await Promise.race([exited, sleep(5000)]);
        if (nginx.exitCode === null) nginx.kill('SIGKILL');
      }
      if (!options.workDir && !options.keepWorkDir)
        rmSync(workDir, { recursive: true, force: true });
    },
  };
}
