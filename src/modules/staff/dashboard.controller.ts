import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsISO8601, IsOptional, MaxLength } from 'class-validator';
import { Roles, STAFF_ROLES } from '../../common/auth/index.js';
import { ApiAnswer } from '../../common/http/index.js';
import { DashboardService } from './dashboard.service.js';
import { dashboardView, type DashboardView } from './dashboard.view.js';

export class DashboardQuery {
  @ApiPropertyOptional({
    description:
      "count the day's figures from here (ISO 8601; the console sends its local midnight); default: today, UTC midnight",
    example: '2026-01-01T16:00:00.000Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @MaxLength(40)
  from?: string;
}

/** The staff console's dashboard (docs/staff.md#dashboard). */
@ApiTags('staff')
@Controller('admin/dashboard')
export class DashboardController {
  constructor(private readonly dashboard: DashboardService) {}

  @ApiOperation({ summary: "The day's orders, the backlogs and the live flash sales (staff)" })
  @Get()
  @Roles(...STAFF_ROLES)
  @ApiAnswer(dashboardView)
  read(@Query() query: DashboardQuery): Promise<DashboardView> {
    const since = query.from ? new Date(query.from) : new Date(new Date().setUTCHours(0, 0, 0, 0));
    return this.dashboard.read(since);
  }
}
