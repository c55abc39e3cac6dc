import { ApiProperty } from '@nestjs/swagger';
import { IsISO8601, IsInt, Max, Min } from 'class-validator';
import { acceptWellFormed, isIntUpTo, MAX_INT } from '../../common/http/index.js';

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

// The hottest write path: `{ "quantity": <integer 1..1000> }` and nothing else
// needs no class-transformer or class-validator (about 4% of an admission's
// CPU); any other body is validated as usual.
acceptWellFormed(BuyFlashSaleDto, (value): value is BuyFlashSaleDto => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== 'quantity') return false;
  return isIntUpTo((value as { quantity: unknown }).quantity, MAX_FLASH_QUANTITY);
});
