import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated } from '../../common/auth/index.js';
import { ApiAnswer } from '../../common/http/index.js';
import { WxaCodeQuery } from './wxacode.dto.js';
import { WxaCodes } from './wxacode.service.js';

@ApiTags('wechat')
@Controller('wxacode')
export class WxaCodeController {
  constructor(private readonly codes: WxaCodes) {}

  /** The unlimited mini-program code as an image (errors stay JSON in the envelope). */
  @ApiOperation({ summary: 'Get a mini-program code image' })
  @Get()
  @Authenticated()
  @ApiAnswer(
    { mediaType: 'image/png' },
    { description: 'the PNG of the code', errors: ['WECHAT_UPSTREAM'] },
  )
  async get(
    @Query() query: WxaCodeQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer> {
    const image = await this.codes.get(query);
    void reply.type(image.contentType).header('cache-control', 'private, max-age=86400');
    return image.body;
  }
}
