import {
  Body,
  Controller,
  Get,
  Injectable,
  Module,
  Param,
  ParseIntPipe,
  Patch,
  Post,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { IsString, Length } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { DataSource, type Repository } from 'typeorm';
import { CurrentUser, type AuthUser } from '../src/common/auth/index.js';
import { AppError } from '../src/common/errors/index.js';
import { loadConfig } from '../src/config/index.js';
import { ConsistencyService } from '../src/infra/consistency/index.js';
import { entities } from '../src/entities.js';
import { dataSourceOptions } from '../src/infra/database/index.js';
import { User } from '../src/modules/users/index.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { baseEnv, testRedisPrefix } from './helpers/env.js';
import { startReplicaPair, type ReplicaPair } from './helpers/replica-pair.js';

const READ_YOUR_WRITES_MS = 1500;
const RESTORE_MS = 1000;

// Test-only stand-in for the auth guard: the acting user comes from a header.
@Injectable()
class HeaderUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const id = request.headers['x-user-id'];
    if (typeof id === 'string') request.user = { userId: Number(id), sessionId: 's', role: 'user' };
    return true;
  }
}

class NicknameDto {
  @IsString()
  @Length(1, 64)
  nickname: string;
}

// Reads and writes the way domain services will: injected repositories for
// plain reads, markWrite after a committed write, the manager in a transaction.
@Controller('probe/users')
@UseGuards(HeaderUserGuard)
class RoutingProbeController {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly consistency: ConsistencyService,
    private readonly dataSource: DataSource,
  ) {}

  @Get(':id')
  async read(@Param('id', ParseIntPipe) id: number) {
    const user = await this.users.findOneBy({ id });
    if (!user) throw new AppError('NOT_FOUND');
    return { nickname: user.nickname };
  }

  @Patch(':id')
  async rename(
    @Param('id', ParseIntPipe) id: number,
    @Body() body: NicknameDto,
    @CurrentUser() actor: AuthUser,
  ) {
    await this.users.update(id, { nickname: body.nickname });
    await this.consistency.markWrite(actor.userId);
    return { renamed: true };
  }

  @Post(':id/rename-and-read')
  async renameAndRead(
    @Param('id', ParseIntPipe) id: number,
    @Body() body: NicknameDto,
    @CurrentUser() actor: AuthUser,
  ) {
    const before = await this.users.findOneBy({ id });
    await this.users.update(id, { nickname: body.nickname });
    await this.consistency.markWrite(actor.userId);
    const after = await this.users.findOneBy({ id });
    return { before: before?.nickname, after: after?.nickname };
  }

  @Get(':id/in-transaction')
  inTransaction(@Param('id', ParseIntPipe) id: number) {
    return this.dataSource.transaction(async (manager) => {
      const user = await manager.findOneBy(User, { id });
      return { nickname: user?.nickname };
    });
  }

  @Get(':id/slow')
  async slow(@Param('id', ParseIntPipe) id: number) {
    const row = await this.users
      .createQueryBuilder('u')
      .select('u.nickname', 'nickname')
      .addSelect('@@server_id', 'serverId')
      .addSelect('SLEEP(1.5)', 'slept')
      .where('u.id = :id', { id })
      .getRawOne<{ nickname: string; serverId: number }>();
    return { nickname: row?.nickname, serverId: Number(row?.serverId) };
  }
}

@Module({
  imports: [TypeOrmModule.forFeature([User])],
  controllers: [RoutingProbeController],
})
class RoutingProbeModule {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('read/write routing on a real primary + replica pair', () => {
  let pair: ReplicaPair;
  let app1: TestApp;
  let app2: TestApp;
  const ids = { a: 0, b: 0, c: 0 };

  async function comSelect() {
    return {
      primary: await pair.status('primary', 'Com_select'),
      replica: await pair.status('replica', 'Com_select'),
    };
  }

  /** Runs `fn` and returns how many SELECTs each server ran meanwhile. */
  async function counted<T>(fn: () => Promise<T>) {
    const before = await comSelect();
    const result = await fn();
    const after = await comSelect();
    return {
      result,
      primary: after.primary - before.primary,
      replica: after.replica - before.replica,
    };
  }

  const read = (t: TestApp, id: number, as?: number) => {
    const req = t.http.get(`/api/v1/probe/users/${id}`);
    return as === undefined ? req : req.set('x-user-id', String(as));
  };

  beforeAll(async () => {
    pair = await startReplicaPair();
    await pair.sql('primary', 'CREATE DATABASE app CHARACTER SET utf8mb4');
    const primaryDb = `${pair.primaryUrl}/app`;
    const migrator = new (await import('typeorm')).DataSource(
      await dataSourceOptions(loadConfig(baseEnv(primaryDb, 'unused:')), entities),
    );
    await migrator.initialize();
    await migrator.runMigrations();
    await migrator.destroy();
    for (const name of ['a', 'b', 'c'] as const) {
      const result = await pair.sql<{ insertId: number }>(
        'primary',
        "INSERT INTO app.users (openid, nickname) VALUES (?, 'v1')",
        [`openid-${name}`],
      );
      ids[name] = result.insertId;
    }
    await pair.sync();

    // Two replicas of the app sharing one Redis key space.
    const env = {
      ...baseEnv(primaryDb, testRedisPrefix()),
      DATABASE_REPLICA_URLS: `${pair.replicaUrl}/app`,
      DATABASE_POOL_SIZE: '4',
      READ_YOUR_WRITES_MS: String(READ_YOUR_WRITES_MS),
      DATABASE_REPLICA_RESTORE_MS: String(RESTORE_MS),
      // Statement counts measure the request path: no outbox relay polling beside it,
      // and no runtime-settings refresh (a SELECT every 5 s by default) during a request.
      WORKER_MODE: 'http',
      SETTINGS_REFRESH_MS: String(3_600_000),
    };
    app1 = await startTestApp(env, { imports: [RoutingProbeModule] });
    app2 = await startTestApp(env, { imports: [RoutingProbeModule] });
  }, 90_000);

  afterAll(async () => {
    await app1?.close();
    await app2?.close();
    await pair?.stop();
  });

  describe('with replication paused (a lagging replica)', () => {
    let wroteAt = 0;

    beforeAll(async () => {
      await pair.pauseReplication();
    });
    afterAll(async () => {
      await pair.resumeReplication();
      await pair.sync();
    });

    it("sends a user's read right after their own write to the primary, on another app replica", async () => {
      const write = await app1.http
        .patch(`/api/v1/probe/users/${ids.a}`)
        .set('x-user-id', String(ids.a))
        .send({ nickname: 'v2' });
      expect(write.status).toBe(200);
      wroteAt = Date.now();

      const { result, primary, replica } = await counted(() => read(app2, ids.a, ids.a));
      expect(result.body.data).toEqual({ nickname: 'v2' });
      expect(primary).toBe(1);
      expect(replica).toBe(0);
    });

    it("serves another user's read from the replica (which has not applied the write)", async () => {
      const { result, primary, replica } = await counted(() => read(app2, ids.a, ids.b));
      expect(result.body.data).toEqual({ nickname: 'v1' });
      expect(replica).toBe(1);
      expect(primary).toBe(0);
    });

    it('serves anonymous reads from the replica', async () => {
      const { result, primary, replica } = await counted(() => read(app1, ids.a));
      expect(result.body.data).toEqual({ nickname: 'v1' });
      expect({ primary, replica }).toEqual({ primary: 0, replica: 1 });
    });

    it("returns the user's reads to the replica once READ_YOUR_WRITES_MS has passed", async () => {
      await sleep(Math.max(0, wroteAt + READ_YOUR_WRITES_MS + 100 - Date.now()));
      const { result, primary, replica } = await counted(() => read(app1, ids.a, ids.a));
      expect(result.body.data).toEqual({ nickname: 'v1' });
      expect({ primary, replica }).toEqual({ primary: 0, replica: 1 });
    });

    it("reads from the primary for the rest of a request after that request's write", async () => {
      const { result, primary, replica } = await counted(() =>
        app1.http
          .post(`/api/v1/probe/users/${ids.c}/rename-and-read`)
          .set('x-user-id', String(ids.c))
          .send({ nickname: 'c2' }),
      );
      expect(result.body.data).toEqual({ before: 'v1', after: 'c2' });
      expect({ primary, replica }).toEqual({ primary: 1, replica: 1 });
    });

    it("reads inside a transaction on the transaction's connection (the primary)", async () => {
      const { result, primary, replica } = await counted(() =>
        app2.http
          .get(`/api/v1/probe/users/${ids.a}/in-transaction`)
          .set('x-user-id', String(ids.b)),
      );
      expect(result.body.data).toEqual({ nickname: 'v2' });
      expect({ primary, replica }).toEqual({ primary: 1, replica: 0 });
    });
  });

  describe('when the replica dies', () => {
    it('answers a read whose replica connection dies mid-query from the primary', async () => {
      const pending = app1.http
        .get(`/api/v1/probe/users/${ids.b}/slow`)
        .set('x-user-id', String(ids.b))
        .then((r) => r);
      await sleep(500);
      await pair.killReplica();
      const res = await pending;
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ nickname: 'v1', serverId: 1 });
    });

    it('keeps answering reads from the primary while no replica is left', async () => {
      for (const t of [app1, app2]) {
        for (let i = 0; i < 3; i++) {
          const res = await read(t, ids.a, ids.b);
          expect(res.status).toBe(200);
          expect(res.body.data).toEqual({ nickname: 'v2' });
        }
      }
      const metrics = await app2.http.get('/metrics');
      expect(metrics.text).toMatch(
        /db_read_routes_total\{target="primary",reason="replica_unavailable"\} [1-9]/,
      );
    });

    it('sends reads back to the replica once it is up again, within the restore timeout', async () => {
      await pair.startReplica();
      const back = Date.now();
      const baseline = await pair.status('replica', 'Com_select');
      let served = 0;
      while (served === 0 && Date.now() - back < RESTORE_MS + 4000) {
        const res = await read(app1, ids.a, ids.b);
        expect(res.status).toBe(200);
        served = (await pair.status('replica', 'Com_select')) - baseline;
        if (served === 0) await sleep(100);
      }
      expect(served).toBeGreaterThan(0);
      expect(Date.now() - back).toBeLessThan(RESTORE_MS + 1500);
      // Replication picked up where it stopped.
      await pair.sql('primary', "UPDATE app.users SET nickname = 'v3' WHERE id = ?", [ids.b]);
      await pair.sync();
      const res = await read(app1, ids.b);
      expect(res.body.data).toEqual({ nickname: 'v3' });
    });
  });
});
