export { loadConfig, ConfigError, parseDatabaseUrl } from './app-config.js';
export type { AppConfig, DatabaseConfig, DatabaseEndpoint, ThrottleName } from './app-config.js';
export { ConfigModule, APP_CONFIG } from './config.module.js';
