import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { freePort } from '../../scripts/free-port.mjs';

// A real MariaDB primary + replica pair (binlog replication) on spare ports,
// in a temporary directory, for tests of read/write routing. It never touches
// the shared server on 3306. Binaries: TEST_MARIADBD / TEST_MARIADB_INSTALL_DB,
// else the Debian paths.

const MARIADBD = process.env.TEST_MARIADBD ?? '/usr/sbin/mariadbd';
const INSTALL_DB = process.env.TEST_MARIADB_INSTALL_DB ?? 'mariadb-install-db';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

export type PairServer = 'primary' | 'replica';

export interface ReplicaPair {
  /** `mysql://root@127.0.0.1:PORT` (no database). */
  primaryUrl: string;
  replicaUrl: string;
  /** Runs one statement on a server over a fresh connection. */
  sql<T = RowDataPacket[]>(server: PairServer, statement: string, params?: unknown[]): Promise<T>;
  /** Waits (bounded) until the replica has applied everything the primary wrote. */
  sync(timeoutMs?: number): Promise<void>;
  /** STOP SLAVE SQL_THREAD: the replica keeps receiving but applies nothing (lag). */
  pauseReplication(): Promise<void>;
  resumeReplication(): Promise<void>;
  /** SIGKILL the replica server and wait for it to be gone. */
  killReplica(): Promise<void>;
  /** Starts the replica again on the same port and data; replication resumes by itself. */
  startReplica(): Promise<void>;
  /** A global status counter, e.g. Com_select (reset when a server restarts). */
  status(server: PairServer, name: string): Promise<number>;
  /** Stops both servers and removes the temporary directory. */
  stop(): Promise<void>;
}

class Server {
  process: ChildProcess | undefined;

  constructor(
    readonly name: PairServer,
    readonly dir: string,
    readonly port: number,
    private readonly args: string[],
  ) {}

  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}`;
  }

  get errorLog(): string {
    return join(this.dir, 'error.log');
  }

  async start(): Promise<void> {
    const child = spawn(
      MARIADBD,
      [
        '--no-defaults',
        `--datadir=${join(this.dir, 'data')}`,
        `--socket=${join(this.dir, 'sock')}`,
        `--pid-file=${join(this.dir, 'pid')}`,
        `--log-error=${this.errorLog}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=32M',
        '--innodb-log-file-size=8M',
        '--performance-schema=OFF',
        ...(process.getuid?.() === 0 ? ['--user=root'] : []),
        ...this.args,
      ],
      { stdio: 'ignore' },
    );
    this.process = child;
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(new Error(`${this.name} mariadbd exited (${code ?? signal}): ${this.tail()}`)),
      ),
    );
    exited.catch(() => undefined);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      try {
        const conn = await Promise.race([createConnection(this.url), exited]);
        await conn.end();
        return;
      } catch (err) {
        if (child.exitCode !== null || child.signalCode !== null) throw err;
        if (Date.now() > deadline) {
          await this.kill();
          throw new Error(
            `${this.name} mariadbd not ready in ${READY_TIMEOUT_MS} ms: ${this.tail()}`,
          );
        }
        await sleep(100);
      }
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await gone;
    clearTimeout(timer);
  }

  private tail(): string {
    return existsSync(this.errorLog)
      ? readFileSync(this.errorLog, 'utf8').split('\n').slice(-5).join(' | ')
      : '(no error log)';
  }
}

async function installDataDir(datadir: string): Promise<void> {
  await promisify(execFile)(
    INSTALL_DB,
    [
      '--no-defaults',
      `--datadir=${datadir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--innodb-log-file-size=8M',
      '--innodb-buffer-pool-size=32M',
      ...(process.getuid?.() === 0 ? ['--user=root'] : []),
    ],
    { timeout: 60_000 },
  );
}

export interface OwnMariadb {
  /** `mysql://root@127.0.0.1:PORT` (no database). */
  url: string;
  /** SIGKILL the server (an outage: connections drop, new ones are refused). */
  kill(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
}

/** One MariaDB server of the test's own, to kill and restart at will. */
export async function startOwnMariadb(): Promise<OwnMariadb> {
  const base = mkdtempSync(join(tmpdir(), 'mp-own-db-'));
  const server = new Server('primary', base, await freePort(), ['--server-id=1']);
  const cleanupOnExit = () => {
    server.process?.kill('SIGKILL');
    rmSync(base, { recursive: true, force: true });
  };
  process.once('exit', cleanupOnExit);
  const stop = async () => {
    await server.kill('SIGTERM');
    rmSync(base, { recursive: true, force: true });
    process.removeListener('exit', cleanupOnExit);
  };
  try {
    await installDataDir(join(base, 'data'));
    await server.start();
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: server.url, kill: () => server.kill('SIGKILL'), start: () => server.start(), stop };
}

/** Starts a primary and a replica replicating from it; call stop() when done. */
export async function startReplicaPair(): Promise<ReplicaPair> {
  const base = mkdtempSync(join(tmpdir(), 'mp-pair-'));
  const servers: Server[] = [];
  // A crashed test run still leaves no server or directory behind.
  const cleanupOnExit = () => {
    for (const s of servers) s.process?.kill('SIGKILL');
    rmSync(base, { recursive: true, force: true });
  };
  process.once('exit', cleanupOnExit);

  const stop = async () => {
    await Promise.all(servers.map((s) => s.kill('SIGTERM')));
    rmSync(base, { recursive: true, force: true });
    process.removeListener('exit', cleanupOnExit);
  };

  try {
    await installDataDir(join(base, 'primary', 'data'));
    // The replica starts as a copy of the fresh primary, so replication can
    // begin at the primary's empty GTID position.
    cpSync(join(base, 'primary'), join(base, 'replica'), { recursive: true });

    const [primaryPort, replicaPort] = [await freePort(), await freePort()];
    const primary = new Server('primary', join(base, 'primary'), primaryPort, [
      '--server-id=1',
      `--log-bin=${join(base, 'primary', 'data', 'bin')}`,
      '--binlog-format=ROW',
    ]);
    const replica = new Server('replica', join(base, 'replica'), replicaPort, [
      '--server-id=2',
      `--relay-log=${join(base, 'replica', 'data', 'relay')}`,
    ]);
    servers.push(primary, replica);
    await Promise.all([primary.start(), replica.start()]);

    const byName = { primary, replica };
    const sql = async <T>(server: PairServer, statement: string, params: unknown[] = []) => {
      const conn = await createConnection({ uri: byName[server].url, connectTimeout: 5000 });
      try {
        const [rows] = await conn.query(statement, params);
        return rows as T;
      } finally {
        await conn.end();
      }
    };

    await sql(
      'replica',
      `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primaryPort},
       MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1`,
    );
    await sql('replica', 'START SLAVE');

    const pair: ReplicaPair = {
      primaryUrl: primary.url,
      replicaUrl: replica.url,
      sql,
      async sync(timeoutMs = 10_000) {
        const [{ pos }] = await sql<{ pos: string }[]>(
          'primary',
          'SELECT @@gtid_binlog_pos AS pos',
        );
        const [{ done }] = await sql<{ done: number }[]>(
          'replica',
          'SELECT MASTER_GTID_WAIT(?, ?) AS done',
          [pos, timeoutMs / 1000],
        );
        if (done !== 0) throw new Error(`replica did not reach ${pos} in ${timeoutMs} ms`);
      },
      pauseReplication: async () => void (await sql('replica', 'STOP SLAVE SQL_THREAD')),
      resumeReplication: async () => void (await sql('replica', 'START SLAVE SQL_THREAD')),
      killReplica: () => replica.kill('SIGKILL'),
      startReplica: () => replica.start(),
      async status(server, name) {
        const rows = await sql<{ Value: string }[]>(server, 'SHOW GLOBAL STATUS LIKE ?', [name]);
        return Number(rows[0]?.Value ?? NaN);
      },
      stop,
    };
    return pair;
  } catch (err) {
    await stop();
    throw err;
  }
}
