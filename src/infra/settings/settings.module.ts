import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { FeatureGuard } from './feature.guard.js';
import { RuntimeSettings } from './runtime-settings.js';
import { SettingsController } from './settings.controller.js';
import { SettingsStore } from './settings.store.js';

/**
 * Runtime settings (throttle limits, feature switches). Registered before the
 * throttle module so that its guard runs first: a switched-off feature costs
 * no rate-limit counter.
 */
@Global()
@Module({
  controllers: [SettingsController],
  providers: [SettingsStore, RuntimeSettings, { provide: APP_GUARD, useClass: FeatureGuard }],
  exports: [RuntimeSettings],
})
export class SettingsModule {}
