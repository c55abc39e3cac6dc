import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  acceptWellFormed,
  isIntUpTo,
  IsSendableText,
  MAX_INT,
  PageQuery,
} from '../../common/http/index.js';
import { AddressFieldsDto } from '../users/index.js';

export const MAX_LINES = 50;
export const MAX_QUANTITY = 99;

export class OrderLineDto {
  @IsInt()
  @Min(1)
  @Max(MAX_INT)
  productId: number;

  @IsInt()
  @Min(1)
  @Max(MAX_QUANTITY)
  quantity: number;
}

export class CreateOrderDto {
  @ApiProperty({ type: [OrderLineDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_LINES)
  @ArrayUnique((line: OrderLineDto) => line?.productId, {
    message: 'each product may appear on one line only',
  })
  @ValidateNested({ each: true })
  @Type(() => OrderLineDto)
  items: OrderLineDto[];

  @ApiPropertyOptional({
    description: 'checked by WeChat content security before it is stored (42201 when risky)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @IsSendableText()
  remark?: string;

  @ApiPropertyOptional({
    description: "one of the user's addresses: the order keeps its own copy",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_INT)
  addressId?: number;
}

/**
 * POST /orders' usual body: `items` of `{ productId, quantity }` within
 * their limits, each product once, and maybe an `addressId`. It needs no
 * class-transformer or class-validator (about 4% of an order's CPU); a
 * remark, or anything this does not accept, is validated as usual.
 */
export function isWellFormedOrder(value: unknown): value is CreateOrderDto {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const body = value as Record<string, unknown>;
  for (const key in body) if (key !== 'items' && key !== 'addressId') return false;
  if (body.addressId !== undefined && !isIntUpTo(body.addressId, MAX_INT)) return false;
  const items = body.items;
  if (!Array.isArray(items) || items.length < 1 || items.length > MAX_LINES) return false;
  const seen = new Set<unknown>();
  for (const line of items as unknown[]) {
    if (typeof line !== 'object' || line === null || Array.isArray(line)) return false;
    const l = line as Record<string, unknown>;
    if (Object.keys(l).length !== 2) return false;
    if (!isIntUpTo(l.productId, MAX_INT) || !isIntUpTo(l.quantity, MAX_QUANTITY)) return false;
    if (seen.has(l.productId)) return false;
    seen.add(l.productId);
  }
  return true;
}
acceptWellFormed(CreateOrderDto, isWellFormedOrder);

/** PUT /orders/:id/address: `{ addressId }`, or the address fields inline. */
export class SetOrderAddressDto extends PartialType(AddressFieldsDto) {
  @ApiPropertyOptional({
    description: "one of the user's addresses; without it, the address fields are required",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_INT)
  addressId?: number;
}

export class ListOrdersQuery extends PageQuery {}
