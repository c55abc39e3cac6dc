import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { TwoTierCache, type GetOrSetOptions } from '../../infra/cache/index.js';
import { WechatClient, type WxaCodeImage, type WxaCodeRequest } from './wechat-client.js';

interface CachedImage {
  /** Content type and the image as base64: cache values are JSON. */
  t: string;
  b: string;
}

// A code for given parameters never changes: keep it a day, and serve it
// stale for a week while WeChat cannot make a new one. One replica asks
// WeChat for a missing code; the others wait for its answer.
const CODE_CACHE: GetOrSetOptions = {
  ttlMs: 86_400_000,
  graceMs: 7 * 86_400_000,
  negativeTtlMs: 0,
  lock: { ttlMs: 10_000 },
};

/** Mini-program codes (getwxacodeunlimit) for share posters, cached by their parameters. */
@Injectable()
export class WxaCodes {
  constructor(
    private readonly wechat: WechatClient,
    private readonly cache: TwoTierCache,
  ) {}

  async get(request: WxaCodeRequest): Promise<WxaCodeImage> {
    const params = JSON.stringify([request.scene, request.page ?? null, request.width ?? null]);
    const key = `wxacode:${createHash('sha256').update(params).digest('base64url')}`;
    const cached = await this.cache.getOrSet<CachedImage>(
      key,
      async () => {
        const image = await this.wechat.wxaCodeUnlimited(request);
        return { t: image.contentType, b: image.body.toString('base64') };
      },
      CODE_CACHE,
    );
    // The loader never answers null: it throws, and nothing is cached.
    return { contentType: cached!.t, body: Buffer.from(cached!.b, 'base64') };
  }
}
