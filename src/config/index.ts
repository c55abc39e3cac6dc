export { loadConfig, ConfigError, type LoadOptions } from './app-config.js';
export { withDevJwtSecret, DEV_JWT_SECRET_FILE } from './dev-jwt-secret.js';
export { JWT_SECRET_PLACEHOLDER } from './env.schema.js';
export { describeBackends } from './describe-backends.js';
export type {
  AppConfig,
  DatabaseEndpoint,
  HostPort,
  RedisConfig,
  RedisTopology,
  SubscribeKind,
  SubscribeTemplate,
  ThrottleName,
} from './app-config.js';
export type { KeywordType, SubscribeField, SubscribeSource } from './subscribe-fields.js';
export { ConfigModule, APP_CONFIG } from './config.module.js';
export type { PaymentsConfig } from './payments-config.js';
