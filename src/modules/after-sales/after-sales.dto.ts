import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { IsSendableText, MAX_INT, PageQuery } from '../../common/http/index.js';
import {
  AFTER_SALES_STATUSES,
  AFTER_SALES_TYPES,
  type AfterSalesStatus,
  type AfterSalesType,
} from './after-sales.entity.js';

/** POST /orders/:id/after-sales. */
export class CreateAfterSalesDto {
  @ApiProperty({ enum: AFTER_SALES_TYPES })
  @IsIn(AFTER_SALES_TYPES)
  type: AfterSalesType;

  /** Sent to WeChat Pay as the refund's reason, whose limit is 80 characters. */
  @ApiProperty({ minLength: 1, maxLength: 80 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(80)
  @IsSendableText()
  reason: string;

  @ApiPropertyOptional({ description: 'default: all that is left to refund (1..that)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_INT)
  amountCents?: number;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  @IsSendableText()
  description?: string;
}

/** POST /after-sales/:id/return-shipment. */
export class ReturnShipmentDto {
  @ApiProperty({ minLength: 1, maxLength: 32 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(32)
  @IsSendableText()
  carrier: string;

  @ApiProperty({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  @Matches(/^[A-Za-z0-9-]+$/, { message: 'trackingNo must be letters, digits and dashes' })
  trackingNo: string;
}

/** POST /admin/after-sales/:id/approve. */
export class ApproveAfterSalesDto {
  @ApiPropertyOptional({ description: "default: the buyer's amount; at most what is refundable" })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_INT)
  amountCents?: number;
}

/** POST /admin/after-sales/:id/reject. */
export class RejectAfterSalesDto {
  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  @IsSendableText()
  reason: string;
}

/** GET /admin/after-sales. */
export class AfterSalesQueueQuery extends PageQuery {
  @ApiPropertyOptional({ enum: AFTER_SALES_STATUSES, description: 'default: every open request' })
  @IsOptional()
  @IsIn(AFTER_SALES_STATUSES)
  status?: AfterSalesStatus;
}
