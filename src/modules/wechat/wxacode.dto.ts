import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

/**
 * `GET /wxacode` query. The scene is what WeChat accepts (docs/http-api.md: 1–32
 * visible ASCII; WeChat's own set is digits, letters and !#$&'()*+,/:;=?@-._~),
 * and a page is a path of the mini-program without a leading slash or a
 * query, so WeChat is never called with what it would refuse.
 */
export class WxaCodeQuery {
  @ApiProperty({
    minLength: 1,
    maxLength: 32,
    example: 'id=42',
    pattern: "^[0-9A-Za-z!#$&'()*+,/:;=?@._~-]{1,32}$",
  })
  @IsString()
  @Matches(/^[0-9A-Za-z!#$&'()*+,/:;=?@._~-]{1,32}$/, {
    message:
      "scene must be 1-32 characters of digits, letters and !#$&'()*+,/:;=?@-._~ (WeChat's scene alphabet)",
  })
  scene: string;

  @ApiPropertyOptional({
    maxLength: 128,
    example: 'pages/index/index',
    description: 'default: the home page',
  })
  @IsOptional()
  @IsString()
  @Matches(/^(?=.{1,128}$)[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, {
    message:
      'page must be a mini-program page path like pages/index/index (no leading slash, no query)',
  })
  page?: string;

  @ApiPropertyOptional({ minimum: 280, maximum: 1280, default: 430 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(280)
  @Max(1280)
  width?: number;
}
