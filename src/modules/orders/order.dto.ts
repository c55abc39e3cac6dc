import { ApiProperty } from '@nestjs/swagger';
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
import { MAX_INT, PageQuery } from '../../common/http/index.js';

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

  @IsOptional()
  @IsString()
  @MaxLength(200)
  remark?: string;
}

export class ListOrdersQuery extends PageQuery {}
