import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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
}

export class ListOrdersQuery extends PageQuery {}
