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
import { IsSendableText, MAX_INT, PageQuery } from '../../common/http/index.js';
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
