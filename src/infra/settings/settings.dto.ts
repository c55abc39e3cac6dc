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

const limitOf = (description: string) =>
  ApiPropertyOptional({ type: ThrottleLimitDto, description });

export class ThrottlePatchDto {
  @limitOf('every route without a named limit, per client')
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ThrottleLimitDto)
  default?: ThrottleLimitDto;

  @limitOf('POST /auth/login, per IP')
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ThrottleLimitDto)
  login?: ThrottleLimitDto;

  @limitOf('POST /orders, per user')
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ThrottleLimitDto)
  orders?: ThrottleLimitDto;

  @limitOf('POST /flash-sales/:id/orders, per user')
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ThrottleLimitDto)
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
