import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_INT, PageQuery } from '../../common/http/index.js';

/** `?actorId=&cursor=&limit=` of GET /admin/audit. */
export class AuditQuery extends PageQuery {
  @ApiPropertyOptional({ description: "only this staff user's writes" })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_INT)
  actorId?: number;
}
