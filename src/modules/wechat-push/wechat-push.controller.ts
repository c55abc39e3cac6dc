import { Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiAnswer, RawBody } from '../../common/http/index.js';
import { WritableWhenReadOnly } from '../../infra/settings/index.js';
import { SkipThrottle } from '../../infra/throttle/index.js';
import { WechatPushReceiver, type PushQuery } from './wechat-push.service.js';

/**
 * The mini-program's message-push server (消息推送). WeChat reads its own
 * answers: `success` or the echostr as text/plain; refusals stay in the
 * envelope. 404 while WECHAT_PUSH_TOKEN is unset.
 */
@ApiTags('wechat')
@Controller('wechat/push')
@SkipThrottle()
export class WechatPushController {
  constructor(private readonly receiver: WechatPushReceiver) {}

  @ApiOperation({ summary: "Answer WeChat's push URL check" })
  @Get()
  @ApiAnswer(
    { mediaType: 'text/plain' },
    { description: 'the echostr', errors: ['UNAUTHORIZED', 'NOT_FOUND'] },
  )
  verify(@Query() query: PushQuery, @Res({ passthrough: true }) reply: FastifyReply): string {
    const echo = this.receiver.verifyUrl(query);
    void reply.type('text/plain; charset=utf-8');
    return echo;
  }

  @ApiOperation({ summary: 'Receive a WeChat push message (JSON or XML, plaintext or safe mode)' })
  @Post()
  @HttpCode(200)
  @RawBody()
  @WritableWhenReadOnly()
  @ApiAnswer(
    { mediaType: 'text/plain' },
    {
      description: '`success`: recorded (or a repeat of a recorded message)',
      errors: ['UNAUTHORIZED', 'NOT_FOUND', 'UNSUPPORTED_MEDIA_TYPE'],
    },
  )
  async receive(
    @Query() query: PushQuery,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    await this.receiver.receive(query, raw);
    void reply.type('text/plain; charset=utf-8');
    return 'success';
  }
}
