import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { MAX_INT, PageQuery } from '../../common/http/index.js';
import { IsInt, IsOptional, IsString, IsUrl, Length, Max, MaxLength, Min } from 'class-validator';

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
}

export class UpdateProductDto extends PartialType(CreateProductDto) {}

export class ListProductsQuery extends PageQuery {}
