import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsInt, IsObject, IsOptional, Max, Min, ValidateNested } from 'class-validator';
import { MAX_LIMIT, MAX_TTL_S } from './settings.model.js';

// PUT /admin/settings: every part optional, unknown names refused by the
// validation pipe (forbidNonWhitelisted), so a typo is a 400, not a no-op.

export class ThrottleLimitDto {
  @ApiPropertyOptional({ description: 'requests per window per client', example: 300 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_LIMIT)
  limit?: number;

  @ApiPropertyOptional({ description: 'window in seconds', example: 60 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TTL_S)
  ttl?: number;
}

/** An optional nested limit: validated field by field, and refused when it is not an object. */
const limitOf = (description: string) =>
  applyDecorators(
    ApiPropertyOptional({ type: ThrottleLimitDto, description }),
    IsOptional(),
    IsObject(),
    ValidateNested(),
    Type(() => ThrottleLimitDto),
  );

export class ThrottlePatchDto {
  @limitOf('every route without a named limit, per client')
  default?: ThrottleLimitDto;

  @limitOf('POST /auth/login, per IP')
  login?: ThrottleLimitDto;

  @limitOf('POST /orders, per user')
  orders?: ThrottleLimitDto;

  @limitOf('POST /flash-sales/:id/orders, per user')
  flash?: ThrottleLimitDto;
}

export class SwitchesPatchDto {
  @ApiPropertyOptional({ description: 'false: POST /orders answers 503/50301' })
  @IsOptional()
  @IsBoolean()
  orders?: boolean;

  @ApiPropertyOptional({ description: 'false: POST /flash-sales/:id/orders answers 503/50301' })
  @IsOptional()
  @IsBoolean()
  flashSales?: boolean;

  @ApiPropertyOptional({
    description: 'false: POST /orders/:id/payment and /payment/confirm answer 503/50301',
  })
  @IsOptional()
  @IsBoolean()
  payments?: boolean;

  @ApiPropertyOptional({
    description:
      'true: every write answers 503/50301 except logins, refreshes, WeChat Pay notifications and this route',
  })
  @IsOptional()
  @IsBoolean()
  readOnly?: boolean;
}

export class UpdateSettingsDto {
  @ApiPropertyOptional({ type: ThrottlePatchDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ThrottlePatchDto)
  throttle?: ThrottlePatchDto;

  @ApiPropertyOptional({ type: SwitchesPatchDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => SwitchesPatchDto)
  switches?: SwitchesPatchDto;
}
