import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';

import { freePort } from '../../scripts/free-port.mjs';

export { freePort };

/**
 * A Redis server of the test's own on a spare port, to stop and start at
 * will: the shared one on 6379 is used by everyone else and stays up.
 */
export class OwnRedisServer {
  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedisServer> {
    const server = new OwnRedisServer(await freePort());
    await server.up();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  async up(): Promise<void> {
    this.serverPid = undefined;
    execFileSync('redis-server', [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'yes',
    ]);
    for (let i = 0; i < 100; i++) {
      if (await this.answers()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server on ${this.port} did not start`);
  }

  async down(): Promise<void> {
    try {
      execFileSync('redis-cli', ['-p', String(this.port), 'shutdown', 'nosave'], {
        stdio: 'ignore',
      });
    } catch {
      // redis-cli reports the dropped connection of a successful shutdown as an error.
    }
    for (let i = 0; i < 100; i++) {
      if (!(await this.answers())) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server on ${this.port} did not stop`);
  }

  /**
   * SIGSTOP: the server keeps its connections open but answers nothing (a
   * stall, not an outage: clients see no error, only timeouts). thaw() resumes it.
   */
  freeze(): void {
    process.kill(this.pid(), 'SIGSTOP');
  }

  thaw(): void {
    process.kill(this.pid(), 'SIGCONT');
  }

  private serverPid: number | undefined;

  private pid(): number {
    if (this.serverPid === undefined) {
      const info = execFileSync('redis-cli', [
        '-p',
        String(this.port),
        'info',
        'server',
      ]).toString();
      this.serverPid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    }
    return this.serverPid;
  }

  private answers(): Promise<boolean> {
    return redisAnswers(this.port);
  }
}

/** Whether a redis-server on this local port answers PING (one short-lived connection). */
export async function redisAnswers(port: number, password?: string): Promise<boolean> {
  const probe = new Redis(port, '127.0.0.1', {
    password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
