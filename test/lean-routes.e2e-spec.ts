import {
  Body,
  Controller,
  Get,
  Header,
  Headers,
  HttpCode,
  Module,
  Param,
  Post,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import { IsInt, Max, Min } from 'class-validator';
import { Authenticated, CurrentUser, type AuthUser } from '../src/common/auth/index.js';
import { AppError } from '../src/common/errors/index.js';
import { Lean, parseId } from '../src/common/http/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/database.js';
import { baseEnv, testRedisPrefix } from './helpers/env.js';
import { startTestApp } from './helpers/app.js';
import { loginAs } from './helpers/auth.js';
import { useStack } from './helpers/stack.js';

/** Whether Nest's router called the handler: its frames are on the stack only then. */
function viaNestRouter(): boolean {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 50;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return stack.includes('router-execution-context');
}

class LeanEchoDto {
  @IsInt()
  @Min(1)
  @Max(5)
  quantity: number;
}

@Controller('lean-probe')
class LeanProbeController {
  @Post('echo/:id')
  @Lean()
  @HttpCode(202)
  echo(
    @Param('id') id: string,
    @Headers('X-Probe') probe: string | undefined,
    @Query('q') q: string | undefined,
    @Body() body: LeanEchoDto,
  ) {
    return {
      id,
      probe: probe ?? null,
      q: q ?? null,
      quantity: body.quantity,
      dto: body instanceof LeanEchoDto,
      viaNestRouter: viaNestRouter(),
    };
  }

  @Get('items/:id')
  @Lean()
  item(@Param('id') id: string) {
    return { id: parseId(id, 'item'), viaNestRouter: viaNestRouter() };
  }

  @Get('classic/:id')
  classic(@Param('id') id: string) {
    return { id: parseId(id, 'item'), viaNestRouter: viaNestRouter() };
  }

  @Get('mine')
  @Lean()
  @Authenticated()
  async mine(@CurrentUser() user: AuthUser) {
    await new Promise((resolve) => setImmediate(resolve));
    return { userId: user.userId, viaNestRouter: viaNestRouter() };
  }

  @Get('conflict')
  @Lean()
  conflict() {
    throw new AppError('CONFLICT', 'insufficient stock');
  }

  @Get('crash')
  @Lean()
  async crash() {
    throw new Error('kaboom at /secret/path');
  }
}

@Module({ controllers: [LeanProbeController] })
class LeanProbeModule {}

describe("@Lean() routes: Nest's semantics without Nest's router", () => {
  const stack = useStack({
    // Per user; the anonymous probes of this file share one IP's 30.
    env: { THROTTLE_DEFAULT_LIMIT: '30', THROTTLE_DEFAULT_TTL: '60' },
    imports: [LeanProbeModule],
  });

  it("answers in the envelope without passing through Nest's router; an unmarked route still does", async () => {
    const lean = await stack.app.http.get('/api/v1/lean-probe/items/7');
    expect(lean.status).toBe(200);
    expect(lean.body).toEqual({
      code: 0,
      message: 'ok',
      data: { id: 7, viaNestRouter: false },
      requestId: lean.headers['x-request-id'],
    });
    expect(lean.headers['x-content-type-options']).toBe('nosniff');
    const classic = await stack.app.http.get('/api/v1/lean-probe/classic/7');
    expect(classic.body.data).toEqual({ id: 7, viaNestRouter: true });
    // The real hot reads are lean too.
    const product = await stack.app.http.get('/api/v1/products/999999');
    expect([product.status, product.body.code]).toEqual([404, 40400]);
  });

  it('runs the global guards: no token 401, a live session admitted, an ended one 401/40102', async () => {
    const anonymous = await stack.app.http.get('/api/v1/lean-probe/mine');
    expect([anonymous.status, anonymous.body.code]).toEqual([401, 40100]);
    const user = await loginAs(stack.app, stack.wx);
    const bearer = `Bearer ${user.accessToken}`;
    const mine = await stack.app.http.get('/api/v1/lean-probe/mine').set('Authorization', bearer);
    expect(mine.body.data).toEqual({ userId: user.user.id, viaNestRouter: false });
    const me = await stack.app.http.get('/api/v1/users/me').set('Authorization', bearer);
    expect([me.status, me.body.data.id]).toEqual([200, user.user.id]);
    expect(
      (await stack.app.http.post('/api/v1/auth/logout').set('Authorization', bearer)).status,
    ).toBe(200);
    for (const path of ['/api/v1/lean-probe/mine', '/api/v1/users/me']) {
      const ended = await stack.app.http.get(path).set('Authorization', bearer);
      expect([path, ended.status, ended.body.code]).toEqual([path, 401, 40102]);
    }
  });

  it('counts the throttle: X-RateLimit-* on each answer, 429/42900 with Retry-After past the limit', async () => {
    const user = await loginAs(stack.app, stack.wx);
    const bearer = `Bearer ${user.accessToken}`;
    const answers = [];
    for (let i = 0; i < 31; i++) {
      answers.push(
        await stack.app.http.get('/api/v1/lean-probe/mine').set('Authorization', bearer),
      );
    }
    expect(answers.map((r) => r.status)).toEqual([...Array(30).fill(200), 429]);
    expect(answers[0].headers['x-ratelimit-limit']).toBe('30');
    expect(answers[0].headers['x-ratelimit-remaining']).toBe('29');
    expect(answers[29].headers['x-ratelimit-remaining']).toBe('0');
    expect(answers[30].body.code).toBe(42900);
    expect(Number(answers[30].headers['retry-after'])).toBeGreaterThan(0);
    // Another client is not affected.
    const other = await loginAs(stack.app, stack.wx);
    const res = await stack.app.http
      .get('/api/v1/lean-probe/mine')
      .set('Authorization', `Bearer ${other.accessToken}`);
    expect(res.status).toBe(200);
  });

  it("leaves through the exception filter: the app's codes, a bare 500 for a crash, 400 for a bad id", async () => {
    const conflict = await stack.app.http.get('/api/v1/lean-probe/conflict');
    expect([conflict.status, conflict.body.code, conflict.body.message]).toEqual([
      409,
      40900,
      'insufficient stock',
    ]);
    const crash = await stack.app.http
      .get('/api/v1/lean-probe/crash')
      .set('X-Request-Id', 'lean-crash-1');
    expect([crash.status, crash.body.code]).toEqual([500, 50000]);
    expect(JSON.stringify(crash.body)).not.toContain('kaboom');
    const line = stack.app.logs.find((l) => l.requestId === 'lean-crash-1');
    expect(line).toMatchObject({ level: 50, message: 'unexpected error' });
    const bad = await stack.app.http.get('/api/v1/lean-probe/items/abc');
    expect([bad.status, bad.body.code]).toEqual([400, 40000]);
  });

  it('takes @Body() through the global validation pipe, @Headers(), @Query() and @HttpCode()', async () => {
    const ok = await stack.app.http
      .post('/api/v1/lean-probe/echo/5?q=tea')
      .set('X-Probe', 'yes')
      .send({ quantity: 2 });
    expect([ok.status, ok.body.data]).toEqual([
      202,
      { id: '5', probe: 'yes', q: 'tea', quantity: 2, dto: true, viaNestRouter: false },
    ]);
    const invalid = await stack.app.http
      .post('/api/v1/lean-probe/echo/5')
      .send({ quantity: 9, extra: 1 });
    expect([invalid.status, invalid.body.code]).toEqual([400, 40000]);
    expect(invalid.body.data.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'extra',
      'quantity',
    ]);
    const nobody = await stack.app.http.post('/api/v1/lean-probe/echo/5');
    expect([nobody.status, nobody.body.code]).toEqual([400, 40000]);
  });

  it('answers HEAD like GET, without a body', async () => {
    const res = await stack.app.http.head('/api/v1/lean-probe/items/7');
    expect(res.status).toBe(200);
    expect(res.text ?? '').toBe('');
    expect(res.headers['x-request-id']).toBeTruthy();
  });
});

// Each of these would make the lean path answer differently from the Nest
// route it replaces, so the app refuses to boot.
@Controller('lean-bad')
class LeanWithRequestController {
  @Get()
  @Lean()
  raw(@Req() request: { url: string }) {
    return { url: request.url };
  }
}

@Controller('lean-bad')
class LeanWithHeaderController {
  @Get()
  @Lean()
  @Header('Cache-Control', 'max-age=60')
  cached() {
    return {};
  }
}

@Controller('lean-bad')
class LeanWithOwnGuardController {
  @Get()
  @Lean()
  @UseGuards(
    class {
      canActivate() {
        return true;
      }
    },
  )
  guarded() {
    return {};
  }
}

describe('@Lean() refuses what it cannot serve the same way', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it.each([
    ['a @Req() parameter', LeanWithRequestController, /parameter other than @Param/],
    ['a @Header()', LeanWithHeaderController, /sets __headers__/],
    ['a route-level guard', LeanWithOwnGuardController, /route-level __guards__/],
  ])('fails the boot for %s', async (_what, controller, message) => {
    @Module({ controllers: [controller] })
    class BadModule {}
    await expect(
      startTestApp(baseEnv(db.url, testRedisPrefix()), { imports: [BadModule] }),
    ).rejects.toThrow(message);
  });
});
