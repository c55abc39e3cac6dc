import { ApiProperty } from '@nestjs/swagger';
import { IsISO8601, IsInt, Max, Min } from 'class-validator';
import { MAX_INT } from '../../common/http/index.js';

/** A buyer's quantity is also bounded by the sale's per-user limit (40911). */
export const MAX_FLASH_QUANTITY = 1000;

export class CreateFlashSaleDto {
  @ApiProperty({ minimum: 1 })
  @IsInt()
  @Min(1)
  @Max(MAX_INT)
  productId: number;

  @ApiProperty({ minimum: 0, maximum: 100_000_000 })
  @IsInt()
  @Min(0)
  @Max(100_000_000)
  priceCents: number;

  @ApiProperty({ minimum: 1, description: 'units taken off the product for the sale' })
  @IsInt()
  @Min(1)
  @Max(MAX_INT)
  stock: number;

  @ApiProperty({ minimum: 1, maximum: MAX_FLASH_QUANTITY })
  @IsInt()
  @Min(1)
  @Max(MAX_FLASH_QUANTITY)
  perUserLimit: number;

  @ApiProperty({ format: 'date-time' })
  @IsISO8601({ strict: true })
  startsAt: string;

  @ApiProperty({ format: 'date-time', description: 'after startsAt and in the future' })
  @IsISO8601({ strict: true })
  endsAt: string;
}

export class BuyFlashSaleDto {
  @ApiProperty({ minimum: 1, maximum: MAX_FLASH_QUANTITY })
  @IsInt()
  @Min(1)
  @Max(MAX_FLASH_QUANTITY)
  quantity: number;
}
