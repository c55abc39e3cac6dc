import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { MAX_INT } from '../../common/http/index.js';

export class RefundDto {
  @ApiPropertyOptional({ minimum: 1, description: 'default: what is left to refund' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_INT)
  amountCents?: number;

  /** Shown to the payer by WeChat Pay (at most 80 characters). */
  @ApiPropertyOptional({ maxLength: 80 })
  @IsOptional()
  @IsString()
  @MaxLength(80)
  reason?: string;
}

/** WeChat's limit on shipping_list: at most 10 packages per order. */
export const MAX_PACKAGES = 10;

export class PackageItemDto {
  @IsInt()
  @Min(1)
  @Max(MAX_INT)
  productId: number;

  @IsInt()
  @Min(1)
  @Max(99)
  quantity: number;
}

/** One parcel of an order shipped in several. */
export class PackageDto {
  @ApiProperty({ maxLength: 64 })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  carrier: string;

  @ApiProperty({ maxLength: 64 })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  trackingNo: string;

  /** What the parcel holds, products of the order; all of it when absent. */
  @ApiPropertyOptional({ type: [PackageItemDto] })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => PackageItemDto)
  items?: PackageItemDto[];
}

export class ShipDto {
  @ApiPropertyOptional({ maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  carrier?: string;

  @ApiPropertyOptional({ maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  trackingNo?: string;

  /** Several parcels, each with its carrier and tracking number (instead of carrier/trackingNo). */
  @ApiPropertyOptional({ type: [PackageDto], maxItems: MAX_PACKAGES })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PACKAGES)
  @ValidateNested({ each: true })
  @Type(() => PackageDto)
  packages?: PackageDto[];

  /**
   * Delivered in town by the merchant's own courier (WeChat's same-city
   * delivery, logistics_type 2) rather than by an express company; a
   * trackingNo is optional, packages are not allowed.
   */
  @ApiPropertyOptional({ description: 'same-city delivery by our own courier' })
  @IsOptional()
  @IsBoolean()
  sameCity?: boolean;
}
