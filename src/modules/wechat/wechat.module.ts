import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Registry } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { REDIS, type RedisClient } from '../../infra/redis/index.js';
import { MemoryAccessTokenStore, RedisAccessTokenStore } from './access-token.store.js';
import { HttpWechatClient } from './http-wechat-client.js';
import { SandboxWechatClient } from './sandbox-wechat-client.js';
import { WechatClient } from './wechat-client.js';
import { WxaCodeController } from './wxacode.controller.js';
import { WxaCodes } from './wxacode.service.js';

function createWechatClient(
  config: AppConfig,
  redis: RedisClient | null,
  registry: Registry,
): WechatClient {
  const { appId, secret, apiBaseUrl, timeoutMs } = config.wechat;
  if (!appId || !secret) {
    // Config refuses a missing appid/secret outside the embedded quick start.
    return new SandboxWechatClient(config.env);
  }
  return new HttpWechatClient({
    appId,
    secret,
    baseUrl: apiBaseUrl,
    timeoutMs,
    registry,
    tokens: redis
      ? new RedisAccessTokenStore(redis, {
          appId,
          lockTtlMs: timeoutMs + 5_000,
          waitMs: timeoutMs + 2_000,
        })
      : new MemoryAccessTokenStore(),
  });
}

class WechatCloser implements OnApplicationShutdown {
  constructor(@Inject(WechatClient) private readonly wechat: WechatClient) {}

  onApplicationShutdown(): void {
    if (this.wechat instanceof HttpWechatClient) this.wechat.close();
  }
}

/**
 * The WeChat server API (login, phone number, server access_token, …) for
 * every domain module that talks to WeChat: the real HTTP client, or the
 * sandbox in the embedded quick start without credentials. Also serves
 * GET /wxacode (mini-program codes for share posters).
 */
@Module({
  controllers: [WxaCodeController],
  providers: [
    WxaCodes,
    {
      provide: WechatClient,
      inject: [APP_CONFIG, REDIS, Registry],
      useFactory: createWechatClient,
    },
    WechatCloser,
  ],
  exports: [WechatClient],
})
export class WechatModule {}
