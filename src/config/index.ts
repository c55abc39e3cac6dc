export { loadConfig, ConfigError } from './app-config.js';
export type { AppConfig, DatabaseEndpoint, ThrottleName } from './app-config.js';
export { ConfigModule, APP_CONFIG } from './config.module.js';
export type { PaymentsConfig } from './payments-config.js';
