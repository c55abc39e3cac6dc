import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
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
}
