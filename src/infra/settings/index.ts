export { SettingsModule } from './settings.module.js';
export { RuntimeSettings } from './runtime-settings.js';
export {
  FEATURE_SWITCH,
  FeatureSwitch,
  WRITABLE_WHEN_READ_ONLY,
  WritableWhenReadOnly,
} from './feature.decorators.js';
export { THROTTLE_NAMES } from './settings.model.js';
export type { FeatureName, Settings } from './settings.model.js';
export { RuntimeSettingsRow } from './runtime-settings.entity.js';
export { SettingsChange } from './settings-change.entity.js';
