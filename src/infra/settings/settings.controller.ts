import { Body, Controller, Get, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
// From the library, not ../throttle: that module depends on this one.
import { SkipThrottle } from '@nestjs/throttler';
import { CurrentUser, Roles, type AuthUser } from '../../common/auth/index.js';
import { ApiAnswer, DEFAULT_PAGE_SIZE, PageQuery } from '../../common/http/index.js';
import { WritableWhenReadOnly } from './feature.decorators.js';
import { RuntimeSettings } from './runtime-settings.js';
import { UpdateSettingsDto } from './settings.dto.js';
import {
  settingsChangePage,
  settingsView,
  toChangeView,
  type SettingsChangePage,
  type SettingsView,
} from './settings.view.js';

/**
 * The operator's runtime settings: throttle limits and feature switches,
 * audited. Never throttled: an operator who set the default limit too low
 * must still be able to undo it (the routes are admin-only).
 */
@ApiTags('settings admin')
@Controller('admin/settings')
@SkipThrottle()
export class SettingsController {
  constructor(private readonly settings: RuntimeSettings) {}

  /** The settings in force on the replica that answers. */
  @ApiOperation({ summary: 'Get the runtime settings' })
  @Get()
  @Roles('admin')
  @ApiAnswer(settingsView)
  get(): SettingsView {
    return this.settings.current();
  }

  /** Any part of the settings; every replica applies the result within 1 s. */
  @ApiOperation({ summary: 'Change the runtime settings' })
  @Put()
  @Roles('admin')
  @WritableWhenReadOnly()
  @ApiAnswer(settingsView, { description: 'the new settings' })
  update(@CurrentUser() admin: AuthUser, @Body() body: UpdateSettingsDto): Promise<SettingsView> {
    return this.settings.update(admin.userId, body);
  }

  /** Every change, newest first: who, when, before and after. */
  @ApiOperation({ summary: 'List changes to the runtime settings' })
  @Get('audit')
  @Roles('admin')
  @ApiAnswer(settingsChangePage)
  async audit(@Query() query: PageQuery): Promise<SettingsChangePage> {
    const page = await this.settings.history(query.cursor, query.limit ?? DEFAULT_PAGE_SIZE);
    return { items: page.items.map(toChangeView), nextCursor: page.nextCursor };
  }
}
