import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { MAX_INT, PageQuery } from '../../common/http/index.js';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { PRODUCT_DELIVERIES, type ProductDelivery } from './product.entity.js';

export class CreateProductDto {
  @IsString()
  @Length(1, 100)
  name: string;

  @ApiPropertyOptional({ default: '' })
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiProperty({ example: 5900 })
  @IsInt()
  @Min(0)
  @Max(100_000_000)
  priceCents: number;

  @IsInt()
  @Min(0)
  // The column is an INTEGER: a larger stock is a 400, not a database error.
  @Max(MAX_INT)
  stock: number;

  @ApiPropertyOptional({ description: 'https only' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @IsUrl(
    { protocols: ['https'], require_protocol: true },
    { message: 'imageUrl must be an https URL' },
  )
  imageUrl?: string;

  @ApiPropertyOptional({
    enum: PRODUCT_DELIVERIES,
    default: 'express',
    description: '`express`: shipped to an address; `virtual`: nothing to ship',
  })
  @IsOptional()
  @IsIn(PRODUCT_DELIVERIES)
  delivery?: ProductDelivery;
}

export class UpdateProductDto extends PartialType(CreateProductDto) {}

export class ListProductsQuery extends PageQuery {}
