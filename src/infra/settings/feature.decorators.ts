import { SetMetadata } from '@nestjs/common';
import type { FeatureName } from './settings.model.js';

export const FEATURE_SWITCH = 'settings:feature';
export const WRITABLE_WHEN_READ_ONLY = 'settings:writable-when-read-only';

/** The route answers 503/50301 while an operator has `feature` switched off. */
export const FeatureSwitch = (feature: FeatureName) => SetMetadata(FEATURE_SWITCH, feature);

/**
 * A write that `readOnly` must not refuse: signing in and refreshing (users
 * keep their sessions), WeChat Pay's notifications (money already moved) and
 * the settings themselves (or read-only could never be switched off).
 */
export const WritableWhenReadOnly = () => SetMetadata(WRITABLE_WHEN_READ_ONLY, true);
