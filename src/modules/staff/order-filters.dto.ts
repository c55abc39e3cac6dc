import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { MAX_INT, PageQuery } from '../../common/http/index.js';
import { ORDER_STATUSES, type OrderStatus } from '../orders/index.js';

/** Longest `q`: a consignee name is at most 32 characters, a tracking number 64. */
export const SEARCH_MAX_LENGTH = 64;

/** The filters of GET /admin/orders and GET /admin/orders/export. */
export class OrderFiltersDto {
  @ApiPropertyOptional({ enum: ORDER_STATUSES })
  @IsOptional()
  @IsIn(ORDER_STATUSES)
  status?: OrderStatus;

  @ApiPropertyOptional({
    description: 'an order id, a phone number, a consignee name or a tracking number (exact)',
    maxLength: SEARCH_MAX_LENGTH,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(SEARCH_MAX_LENGTH)
  q?: string;

  @ApiPropertyOptional({ description: "the buyer's user id" })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_INT)
  userId?: number;

  @ApiPropertyOptional({ description: 'placed at or after (ISO 8601)', example: '2026-01-01' })
  @IsOptional()
  @IsISO8601({ strict: true })
  @MaxLength(40)
  from?: string;

  @ApiPropertyOptional({ description: 'placed before (ISO 8601)', example: '2026-02-01' })
  @IsOptional()
  @IsISO8601({ strict: true })
  @MaxLength(40)
  to?: string;
}

/** GET /admin/orders: the filters and a page. */
export class OrderListQuery extends OrderFiltersDto {
  @ApiPropertyOptional({ description: 'opaque, from the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  cursor?: string;

  @ApiPropertyOptional({ default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}

/** GET /admin/users. */
export class UserListQuery extends PageQuery {
  @ApiPropertyOptional({
    description: 'a user id, a phone number (exact) or the start of a nickname',
    maxLength: SEARCH_MAX_LENGTH,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(SEARCH_MAX_LENGTH)
  q?: string;
}
