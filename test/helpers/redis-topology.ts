import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { redisAnswers, freePort } from './redis-server.js';
import { sleep } from './until.js';

const run = promisify(execFile);

/**
 * redis-server processes of a test's own (a cluster, or a primary, its
 * replica and their sentinels) on spare ports, in one temp dir. stop() kills
 * every one and removes the dir; call it in afterAll, it never throws.
 */
class OwnProcesses {
  readonly dir = mkdtempSync(join(tmpdir(), 'redis-topo-'));
  private readonly children = new Map<number, ChildProcess>();

  /**
   * Starts `redis-server` with these arguments (no daemon: the test owns the
   * process). A config file, when given, must come first on the command line.
   */
  async start(port: number, args: string[], configFile?: string, password?: string): Promise<void> {
    const head = configFile ? [configFile] : [];
    const child = spawn(
      'redis-server',
      [...head, '--port', String(port), '--bind', '127.0.0.1', ...args],
      {
        cwd: this.dir,
        stdio: 'ignore',
      },
    );
    this.children.set(port, child);
    for (let i = 0; i < 100; i++) {
      if (await redisAnswers(port, password)) return;
      await sleep(50);
    }
    throw new Error(`redis-server on ${port} did not start`);
  }

  /** SIGKILL: a crash, not a shutdown. */
  kill(port: number): void {
    this.children.get(port)?.kill('SIGKILL');
    this.children.delete(port);
  }

  stop(): void {
    for (const port of this.children.keys()) this.kill(port);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const NO_PERSISTENCE = ['--save', '', '--appendonly', 'no'];

export interface OwnCluster {
  /** REDIS_CLUSTER_NODES: every master as a seed. */
  nodes: string;
  ports: number[];
  stop(): void;
}

/** `requirepass` (and `masterauth`) on every server, when given. */
const auth = (password?: string) =>
  password ? ['--requirepass', password, '--masterauth', password] : [];
const cliAuth = (password?: string) => (password ? ['-a', password, '--no-auth-warning'] : []);

/**
 * A Redis Cluster of `masters` masters (no replicas), slots spread by
 * redis-cli; every node requires `password` when given.
 */
export async function startRedisCluster(masters = 3, password?: string): Promise<OwnCluster> {
  const procs = new OwnProcesses();
  try {
    const ports: number[] = [];
    for (let i = 0; i < masters; i++) {
      // Chosen one at a time and started at once, so no two nodes draw one port.
      const [port, bus] = [await freePort(), await freePort()];
      ports.push(port);
      await procs.start(
        port,
        [
          ...NO_PERSISTENCE,
          ...auth(password),
          '--cluster-enabled',
          'yes',
          // Its own bus port: the default (port + 10000) may be taken or past 65535.
          '--cluster-port',
          String(bus),
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '2000',
        ],
        undefined,
        password,
      );
    }
    const nodes = ports.map((p) => `127.0.0.1:${p}`);
    await run('redis-cli', [
      ...cliAuth(password),
      '--cluster',
      'create',
      ...nodes,
      '--cluster-yes',
    ]);
    for (let i = 0; i < 200; i++) {
      const states = await Promise.all(
        ports.map((p) =>
          run('redis-cli', [...cliAuth(password), '-p', String(p), 'cluster', 'info']),
        ),
      );
      if (states.every((s) => s.stdout.includes('cluster_state:ok'))) {
        return { nodes: nodes.join(','), ports, stop: () => procs.stop() };
      }
      await sleep(50);
    }
    throw new Error('the cluster did not reach cluster_state:ok');
  } catch (err) {
    procs.stop();
    throw err;
  }
}

export interface OwnSentinelGroup {
  /** REDIS_SENTINELS. */
  sentinels: string;
  name: string;
  /** Ports of the servers, the primary at start first. */
  servers: number[];
  /** The port of the server the sentinels call primary now. */
  primaryPort(): Promise<number>;
  /** SIGKILL of the current primary: the sentinels fail it over to the most up-to-date replica. */
  crashPrimary(): Promise<void>;
  stop(): void;
}

/**
 * A primary, `replicaCount` replicas and `count` sentinels (quorum 1, short
 * timeouts): a failover completes within a second or two. With two replicas
 * the new primary has a replica at once (Sentinel repoints the other one
 * right after the promotion; it converts a demoted primary only at its next
 * 10 s INFO round). `passwords.servers` is the servers' requirepass (the
 * sentinels reach them with `sentinel auth-pass`), `passwords.sentinels` the
 * sentinels' own.
 */
export async function startSentinelGroup(
  count = 1,
  replicaCount = 2,
  passwords: { servers?: string; sentinels?: string } = {},
): Promise<OwnSentinelGroup> {
  const procs = new OwnProcesses();
  const name = 'topo';
  try {
    const primary = await freePort();
    await procs.start(
      primary,
      [...NO_PERSISTENCE, ...auth(passwords.servers)],
      undefined,
      passwords.servers,
    );
    const replicas: number[] = [];
    for (let i = 0; i < replicaCount; i++) {
      const replica = await freePort();
      await procs.start(
        replica,
        [
          ...NO_PERSISTENCE,
          ...auth(passwords.servers),
          '--replicaof',
          '127.0.0.1',
          String(primary),
        ],
        undefined,
        passwords.servers,
      );
      replicas.push(replica);
    }
    const sentinelPorts: number[] = [];
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const file = join(procs.dir, `sentinel-${port}.conf`);
      // Sentinel rewrites its config file, so each gets a file of its own.
      const conf = [
        `sentinel monitor ${name} 127.0.0.1 ${primary} 1`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 3000`,
        `sentinel parallel-syncs ${name} 1`,
        ...(passwords.servers ? [`sentinel auth-pass ${name} ${passwords.servers}`] : []),
        ...(passwords.sentinels ? [`requirepass ${passwords.sentinels}`] : []),
      ].join('\n');
      writeFileSync(file, `${conf}\n`);
      await procs.start(port, ['--sentinel'], file, passwords.sentinels);
      sentinelPorts.push(port);
    }
    const sentinel = (port: number) =>
      new Redis(port, '127.0.0.1', {
        password: passwords.sentinels,
        maxRetriesPerRequest: 1,
        lazyConnect: false,
      });
    const primaryPort = async () => {
      const s = sentinel(sentinelPorts[0]);
      try {
        const [, port] = (await s.call('SENTINEL', 'get-master-addr-by-name', name)) as string[];
        return Number(port);
      } finally {
        s.disconnect();
      }
    };
    // Wait until the sentinel sees every replica: a failover needs one to promote.
    for (let i = 0; ; i++) {
      const s = sentinel(sentinelPorts[0]);
      const seen = (await s
        .call('SENTINEL', 'replicas', name)
        .finally(() => s.disconnect())) as string[][];
      if (replicas.every((p) => seen.some((r) => r.includes(String(p))))) break;
      if (i > 200) throw new Error('the sentinel never saw the replicas');
      await sleep(50);
    }
    return {
      sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
      name,
      servers: [primary, ...replicas],
      primaryPort,
      crashPrimary: async () => procs.kill(await primaryPort()),
      stop: () => procs.stop(),
    };
  } catch (err) {
    procs.stop();
    throw err;
  }
}

/**
 * A cluster of the describe block's own: started before the block's later
 * hooks (register it before useStack, so the apps close first), stopped
 * after. Read `nodes` inside tests and hooks.
 */
export function useRedisCluster(masters = 3): { readonly nodes: string } {
  let cluster: OwnCluster | undefined;
  beforeAll(async () => {
    cluster = await startRedisCluster(masters);
  }, 30_000);
  afterAll(() => cluster?.stop());
  return {
    get nodes() {
      return (cluster as OwnCluster).nodes;
    },
  };
}
