export { loadConfig, ConfigError } from './app-config.js';
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
