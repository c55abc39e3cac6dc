import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { envSchema, type Env } from './env.schema.js';
import { paymentsConfig, PaymentsConfigError, type PaymentsConfig } from './payments-config.js';
import type { SubscribeField } from './subscribe-fields.js';

export interface DatabaseEndpoint {
  host: string;
  port: number;
  username: string;
  password: string;
  database: string;
}

export type DatabaseConfig =
  | {
      kind: 'mysql';
      primary: DatabaseEndpoint;
      replicas: DatabaseEndpoint[];
      poolSize: number;
      /** Callers waiting for a connection beyond this are refused at once (503). */
      poolQueueLimit: number;
      /** How long a failed replica stays out before it is tried again. */
      replicaRestoreMs: number;
    }
  | { kind: 'embedded'; path: string };

export interface HostPort {
  host: string;
  port: number;
}

/** REDIS_USERNAME / REDIS_PASSWORD: the data nodes' AUTH (ACL user optional). */
export interface RedisAuth {
  username?: string;
  password: string;
}

/** How the app reaches Redis: one server (REDIS_URL), a Redis Cluster, or a Sentinel-watched primary. */
export type RedisTopology =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: HostPort[]; auth?: RedisAuth }
  | {
      kind: 'sentinel';
      sentinels: HostPort[];
      name: string;
      auth?: RedisAuth;
      /** REDIS_SENTINEL_PASSWORD: the sentinels' own requirepass. */
      sentinelPassword?: string;
    };

export interface RedisConfig {
  topology: RedisTopology;
  keyPrefix: string;
  commandTimeoutMs: number;
}

export type ThrottleName = 'default' | 'login' | 'orders' | 'flash';

/** The order and after-sales events that can become a subscribe message. */
export type SubscribeKind =
  | 'orderPaid'
  | 'orderShipped'
  | 'orderRefunded'
  | 'orderTimeout'
  | 'afterSalesApproved'
  | 'afterSalesRejected'
  | 'afterSalesRefunded';

/** A configured subscribe-message template: its id and the source of each keyword. */
export interface SubscribeTemplate {
  templateId: string;
  fields: SubscribeField[];
}

export interface AppConfig {
  env: Env['NODE_ENV'];
  /** Embedded quick-start mode: no MySQL URL given outside production. */
  embedded: boolean;
  http: {
    port: number;
    host: string;
    bodyLimit: number;
    /** Socket idle time while a request is open, whole-request receive time, idle keep-alive time. */
    connectionTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    /** Time budget of a request, by route kind (see docs/request-deadlines.md). */
    budgets: { default: number; orders: number; wechat: number };
    trustProxy: string[];
    corsOrigins: string[];
  };
  log: { level: Env['LOG_LEVEL'] };
  database: DatabaseConfig;
  /** After a user's write, that user's plain reads go to the primary for this long. */
  consistency: { readYourWritesMs: number };
  /** `undefined` means in-process stores (single replica only). */
  redis: RedisConfig | undefined;
  /** In-process tier of the two-tier cache; the max TTL bounds staleness when an invalidation is lost. */
  cache: { l1MaxEntries: number; l1MaxBytes: number; l1MaxTtlMs: number };
  jwt: {
    secret: string;
    /** Earlier secrets, newest first: they verify and unseal, never sign (key rotation). */
    previousSecrets: string[];
    /** True when the secret was generated at boot (embedded mode only). */
    generated: boolean;
    /** The development secret's file in the embedded data folder, when it came from there. */
    secretFile?: string;
    accessTtl: number;
    refreshTtl: number;
  };
  wechat: {
    appId: string | undefined;
    secret: string | undefined;
    apiBaseUrl: string;
    /** Per-request timeout of WeChat API calls. */
    timeoutMs: number;
    /** When msg_sec_check cannot answer: store and flag (true) or refuse with 502. */
    contentCheckFailOpen: boolean;
    /** An avatar check whose result has not been pushed this long is asked again. */
    mediaCheckRetryAfterMs: number;
    /** Requests of one avatar check before it is flagged `unchecked`. */
    mediaCheckMaxAttempts: number;
    /** Set with set_msg_jump_path at boot; unset: WeChat's default page. */
    orderMessagePage: string | undefined;
  };
  /**
   * The message-push server; undefined (route 404) without WECHAT_PUSH_TOKEN.
   * With an AES key only safe-mode (encrypted) messages are taken.
   */
  wechatPush: { token: string; aesKey: Buffer | undefined; appId: string } | undefined;
  payments: PaymentsConfig;
  /** A shipped order becomes `completed` this long after shipping. */
  fulfilment: { autoCompleteDays: number };
  /** A buyer may ask for after-sales this long after the order completed. */
  afterSales: { days: number };
  /** A pending order is asked of WeChat Pay this long after its prepay, and again each such period. */
  reconcileAfterMs: number;
  /** Subscribe messages (wx.requestSubscribeMessage credits spent by order events). */
  subscribe: {
    /** Unset: that event sends no message. */
    templates: Record<SubscribeKind, SubscribeTemplate | undefined>;
    miniprogramState: 'formal' | 'trial' | 'developer';
    /** The page the message opens; `{orderId}` is replaced. Unset: no page. */
    page: string | undefined;
    /** Sends per minute across every worker, kept under the account's WeChat quota. */
    ratePerMinute: number;
  };
  adminOpenIds: string[];
  /** /docs and /docs/json are served. */
  docs: { enabled: boolean };
  /** The staff console: its built files (absolute path) and its sign-in tickets' lifetime. */
  console: { dir: string; ticketTtlMs: number };
  /** OpenTelemetry traces; `undefined` means tracing is off. */
  tracing: { endpoint: string; serviceName: string; sampleRatio: number } | undefined;
  throttle: {
    enabled: boolean;
    /**
     * Named limits: `default` per client, `login` per IP, `orders` and `flash` per user.
     * Only the first values of a fresh database: the runtime settings own them after that.
     */
    limits: Record<ThrottleName, { limit: number; ttlSeconds: number }>;
  };
  /** Runtime settings: each replica re-reads them this often, in case a bus message was lost. */
  settings: { refreshMs: number };
  /** Flash-sale persistence: admissions per transaction; a consumer's unacknowledged batch is taken over after this idle time. */
  /** `stockBuckets`: Redis buckets a new sale's units are split over (docs/flash-sales.md). */
  flash: { batchSize: number; claimIdleMs: number; stockBuckets: number };
  shutdown: { drainMs: number; timeoutMs: number };
  /** `worker` and `all` run the outbox relay, the consumers and the sweepers; `http` and `all` serve the API. */
  workerMode: 'all' | 'http' | 'worker';
  queue: {
    /** How often the relay looks for unpublished events when it found none. */
    outboxPollMs: number;
    /** How long published events (and processed-event records, twice as long) are kept. */
    outboxRetentionS: number;
    /** A job whose worker died runs again after this (BullMQ's lock duration). */
    jobLockMs: number;
  };
  orders: {
    /** A pending order not paid within this is cancelled (`payment_timeout`). */
    paymentTimeoutS: number;
    /** How often the sweeper looks for overdue orders the delayed job missed. */
    sweepIntervalMs: number;
  };
}

/** Thrown when the environment is invalid; its message is one line naming the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseDatabaseUrl(value: string): DatabaseEndpoint {
  const url = new URL(value);
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 3306,
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)),
  };
}

/** A template id and its field mapping come together: one without the other is a mistake. */
function subscribeTemplate(
  env: Env,
  event:
    | `ORDER_${'PAID' | 'SHIPPED' | 'REFUNDED' | 'TIMEOUT'}`
    | `AFTER_SALES_${'APPROVED' | 'REJECTED' | 'REFUNDED'}`,
): SubscribeTemplate | undefined {
  const templateId = env[`WECHAT_SUBSCRIBE_TEMPLATE_${event}`];
  const fields = env[`WECHAT_SUBSCRIBE_FIELDS_${event}`];
  if (templateId && !fields)
    throw new ConfigError(
      `Invalid configuration: WECHAT_SUBSCRIBE_FIELDS_${event} is required when WECHAT_SUBSCRIBE_TEMPLATE_${event} is set`,
    );
  if (fields && !templateId)
    throw new ConfigError(
      `Invalid configuration: WECHAT_SUBSCRIBE_TEMPLATE_${event} is required when WECHAT_SUBSCRIBE_FIELDS_${event} is set`,
    );
  return templateId && fields ? { templateId, fields } : undefined;
}

export interface LoadOptions {
  /**
   * For one-off commands on the database (`npm run seed`, `npm run admin`):
   * they sign no token and call neither WeChat nor Redis, so JWT_SECRET, the
   * WeChat credentials and REDIS_URL are not required of them.
   */
  cli?: boolean;
}

function hostPort(value: string): HostPort {
  const at = value.lastIndexOf(':');
  return {
    host: value.slice(0, at).replace(/^\[(.*)\]$/, '$1'),
    port: Number(value.slice(at + 1)),
  };
}

/**
 * REDIS_CLUSTER_NODES or REDIS_SENTINELS, when set, is used instead of
 * REDIS_URL (docs/http-api.md): a deployment moving to a cluster or to Sentinel can
 * keep its old REDIS_URL in the environment. The two are exclusive: each
 * names the whole topology, and guessing which was meant would hide a
 * misconfiguration.
 */
function redisTopology(env: Env): RedisTopology | undefined {
  const cluster = env.REDIS_CLUSTER_NODES;
  const sentinels = env.REDIS_SENTINELS;
  if (cluster.length > 0 && sentinels.length > 0)
    throw new ConfigError(
      'Invalid configuration: REDIS_CLUSTER_NODES and REDIS_SENTINELS are exclusive (set one)',
    );
  if (sentinels.length > 0 && !env.REDIS_SENTINEL_NAME)
    throw new ConfigError(
      "Invalid configuration: REDIS_SENTINEL_NAME is required with REDIS_SENTINELS (the master's name)",
    );
  if (sentinels.length === 0 && env.REDIS_SENTINEL_NAME)
    throw new ConfigError('Invalid configuration: REDIS_SENTINEL_NAME needs REDIS_SENTINELS');
  if (env.REDIS_SENTINEL_PASSWORD && sentinels.length === 0)
    throw new ConfigError('Invalid configuration: REDIS_SENTINEL_PASSWORD needs REDIS_SENTINELS');
  const auth = redisAuth(env, cluster.length > 0 || sentinels.length > 0);
  if (cluster.length > 0) return { kind: 'cluster', nodes: cluster.map(hostPort), auth };
  if (sentinels.length > 0)
    return {
      kind: 'sentinel',
      sentinels: sentinels.map(hostPort),
      name: env.REDIS_SENTINEL_NAME as string,
      auth,
      sentinelPassword: env.REDIS_SENTINEL_PASSWORD,
    };
  return env.REDIS_URL ? { kind: 'single', url: env.REDIS_URL } : undefined;
}

/**
 * One server takes its credentials from REDIS_URL (redis://user:pass@…); a
 * cluster or Sentinel has no URL, so they come from REDIS_USERNAME and
 * REDIS_PASSWORD. Set beside a plain REDIS_URL they would be ignored, which
 * hides a misconfiguration, so that is refused.
 */
function redisAuth(env: Env, topologyWithoutUrl: boolean): RedisAuth | undefined {
  if (!env.REDIS_PASSWORD) {
    if (env.REDIS_USERNAME)
      throw new ConfigError('Invalid configuration: REDIS_USERNAME needs REDIS_PASSWORD');
    return undefined;
  }
  if (!topologyWithoutUrl)
    throw new ConfigError(
      'Invalid configuration: REDIS_PASSWORD applies to REDIS_CLUSTER_NODES or REDIS_SENTINELS (a single server takes it in REDIS_URL)',
    );
  return { username: env.REDIS_USERNAME, password: env.REDIS_PASSWORD };
}

/** The environment, parsed by the one schema; the first problem is the error. */
function parseEnv(source: Record<string, string | undefined>): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message}`);
  }
  return parsed.data;
}

/** What production needs that development can do without (the embedded stores). */
function checkProduction(env: Env, options: LoadOptions): void {
  if (env.NODE_ENV !== 'production') return;
  if (!env.DATABASE_URL)
    throw new ConfigError(
      'Invalid configuration: DATABASE_URL is required when NODE_ENV=production (the embedded database is for development only)',
    );
  if (!redisTopology(env) && !options.cli)
    throw new ConfigError(
      'Invalid configuration: REDIS_URL is required when NODE_ENV=production, or REDIS_CLUSTER_NODES / REDIS_SENTINELS (in-process stores serve a single replica only)',
    );
}

/** The secrets and credentials a server on MySQL needs (the embedded quick start and the CLI do without). */
function checkCredentials(env: Env, embedded: boolean, options: LoadOptions): void {
  if (!env.JWT_SECRET && !embedded && !options.cli)
    throw new ConfigError(
      'Invalid configuration: JWT_SECRET is required (at least 32 characters) unless running the embedded quick start',
    );
  if (!embedded && !options.cli && (!env.WECHAT_APPID || !env.WECHAT_SECRET))
    throw new ConfigError(
      `Invalid configuration: ${env.WECHAT_APPID ? 'WECHAT_SECRET' : 'WECHAT_APPID'} is required unless running the embedded quick start`,
    );
  if (env.DATABASE_REPLICA_URLS.length > 0 && embedded)
    throw new ConfigError('Invalid configuration: DATABASE_REPLICA_URLS needs DATABASE_URL');
  if (env.WECHAT_PUSH_AES_KEY && !env.WECHAT_PUSH_TOKEN)
    throw new ConfigError(
      'Invalid configuration: WECHAT_PUSH_TOKEN is required when WECHAT_PUSH_AES_KEY is set',
    );
  if (env.WECHAT_PUSH_TOKEN && !env.WECHAT_APPID)
    throw new ConfigError(
      'Invalid configuration: WECHAT_APPID is required when WECHAT_PUSH_TOKEN is set (safe-mode messages carry it)',
    );
}

function paymentsSection(env: Env): PaymentsConfig {
  try {
    return paymentsConfig(env);
  } catch (err) {
    throw err instanceof PaymentsConfigError ? new ConfigError(err.message) : err;
  }
}

function httpSection(env: Env): AppConfig['http'] {
  return {
    port: env.PORT,
    host: env.HOST,
    bodyLimit: env.BODY_LIMIT_BYTES,
    connectionTimeoutMs: env.HTTP_CONNECTION_TIMEOUT_MS,
    requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    budgets: {
      default: env.REQUEST_BUDGET_MS,
      orders: env.REQUEST_BUDGET_ORDERS_MS,
      wechat: env.REQUEST_BUDGET_WECHAT_MS,
    },
    trustProxy: env.TRUST_PROXY,
    corsOrigins: env.CORS_ORIGINS,
  };
}

function databaseSection(env: Env): DatabaseConfig {
  return env.DATABASE_URL
    ? {
        kind: 'mysql',
        primary: parseDatabaseUrl(env.DATABASE_URL),
        replicas: env.DATABASE_REPLICA_URLS.map(parseDatabaseUrl),
        poolSize: env.DATABASE_POOL_SIZE,
        poolQueueLimit: env.DATABASE_POOL_QUEUE_LIMIT,
        replicaRestoreMs: env.DATABASE_REPLICA_RESTORE_MS,
      }
    : { kind: 'embedded', path: env.EMBEDDED_DB_PATH };
}

function redisSection(env: Env, topology: RedisTopology | undefined): RedisConfig | undefined {
  return topology
    ? {
        topology,
        keyPrefix: env.REDIS_KEY_PREFIX,
        commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
      }
    : undefined;
}

function jwtSection(env: Env): AppConfig['jwt'] {
  return {
    secret: env.JWT_SECRET ?? randomBytes(32).toString('base64url'),
    previousSecrets: env.JWT_PREVIOUS_SECRETS,
    generated: !env.JWT_SECRET,
    accessTtl: env.JWT_ACCESS_TTL,
    refreshTtl: env.JWT_REFRESH_TTL,
  };
}

function wechatSection(env: Env): AppConfig['wechat'] {
  return {
    appId: env.WECHAT_APPID,
    secret: env.WECHAT_SECRET,
    apiBaseUrl: env.WECHAT_API_BASE_URL.replace(/\/+$/, ''),
    timeoutMs: env.WECHAT_TIMEOUT_MS,
    contentCheckFailOpen: env.CONTENT_CHECK_FAIL_OPEN,
    mediaCheckRetryAfterMs: env.MEDIA_CHECK_RETRY_AFTER_S * 1000,
    mediaCheckMaxAttempts: env.MEDIA_CHECK_MAX_ATTEMPTS,
    orderMessagePage: env.WECHAT_ORDER_MESSAGE_PAGE,
  };
}

/** The message-push server's credentials; undefined (the route answers 404) without a token. */
function wechatPushSection(env: Env): AppConfig['wechatPush'] {
  if (!env.WECHAT_PUSH_TOKEN || !env.WECHAT_APPID) return undefined;
  return {
    token: env.WECHAT_PUSH_TOKEN,
    // The EncodingAESKey is base64 without its one '=' of padding.
    aesKey: env.WECHAT_PUSH_AES_KEY
      ? Buffer.from(`${env.WECHAT_PUSH_AES_KEY}=`, 'base64')
      : undefined,
    appId: env.WECHAT_APPID,
  };
}

function subscribeSection(env: Env): AppConfig['subscribe'] {
  return {
    templates: {
      orderPaid: subscribeTemplate(env, 'ORDER_PAID'),
      orderShipped: subscribeTemplate(env, 'ORDER_SHIPPED'),
      orderRefunded: subscribeTemplate(env, 'ORDER_REFUNDED'),
      orderTimeout: subscribeTemplate(env, 'ORDER_TIMEOUT'),
      afterSalesApproved: subscribeTemplate(env, 'AFTER_SALES_APPROVED'),
      afterSalesRejected: subscribeTemplate(env, 'AFTER_SALES_REJECTED'),
      afterSalesRefunded: subscribeTemplate(env, 'AFTER_SALES_REFUNDED'),
    },
    miniprogramState: env.WECHAT_SUBSCRIBE_STATE,
    page: env.WECHAT_SUBSCRIBE_PAGE,
    ratePerMinute: env.WECHAT_SUBSCRIBE_RATE_PER_MIN,
  };
}

function tracingSection(env: Env): AppConfig['tracing'] {
  return env.OTEL_EXPORTER_OTLP_ENDPOINT
    ? {
        endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
        serviceName: env.OTEL_SERVICE_NAME,
        sampleRatio: env.OTEL_TRACES_SAMPLER_ARG,
      }
    : undefined;
}

function throttleSection(env: Env): AppConfig['throttle'] {
  return {
    enabled: env.THROTTLE_ENABLED,
    limits: {
      default: { limit: env.THROTTLE_DEFAULT_LIMIT, ttlSeconds: env.THROTTLE_DEFAULT_TTL },
      login: { limit: env.THROTTLE_LOGIN_LIMIT, ttlSeconds: env.THROTTLE_LOGIN_TTL },
      orders: { limit: env.THROTTLE_ORDERS_LIMIT, ttlSeconds: env.THROTTLE_ORDERS_TTL },
      flash: {
        limit: env.THROTTLE_FLASH_LIMIT ?? env.THROTTLE_ORDERS_LIMIT,
        ttlSeconds: env.THROTTLE_FLASH_TTL ?? env.THROTTLE_ORDERS_TTL,
      },
    },
  };
}

/**
 * Validates the environment once and returns the typed configuration.
 * Nothing outside src/config reads process.env. The checks run in this
 * order, so that the first problem named is the same whatever else is wrong.
 */
export function loadConfig(
  source: Record<string, string | undefined> = process.env,
  options: LoadOptions = {},
): AppConfig {
  const env = parseEnv(source);
  checkProduction(env, options);
  const embedded = !env.DATABASE_URL;
  const redis = redisTopology(env);
  checkCredentials(env, embedded, options);
  const payments = paymentsSection(env);

  return {
    env: env.NODE_ENV,
    embedded,
    http: httpSection(env),
    log: { level: env.LOG_LEVEL },
    database: databaseSection(env),
    consistency: { readYourWritesMs: env.READ_YOUR_WRITES_MS },
    redis: redisSection(env, redis),
    cache: {
      l1MaxEntries: env.CACHE_L1_MAX_ENTRIES,
      l1MaxBytes: env.CACHE_L1_MAX_BYTES,
      l1MaxTtlMs: env.CACHE_L1_MAX_TTL_MS,
    },
    jwt: jwtSection(env),
    wechat: wechatSection(env),
    wechatPush: wechatPushSection(env),
    payments,
    fulfilment: { autoCompleteDays: env.ORDER_AUTO_COMPLETE_DAYS },
    afterSales: { days: env.AFTER_SALES_DAYS },
    reconcileAfterMs: env.PAYMENT_RECONCILE_AFTER_S * 1000,
    subscribe: subscribeSection(env),
    adminOpenIds: env.ADMIN_OPENIDS,
    docs: {
      enabled: env.DOCS_ENABLED ? env.DOCS_ENABLED === 'true' : env.NODE_ENV !== 'production',
    },
    console: { dir: resolve(env.CONSOLE_DIR), ticketTtlMs: env.CONSOLE_TICKET_TTL_MS },
    tracing: tracingSection(env),
    throttle: throttleSection(env),
    settings: { refreshMs: env.SETTINGS_REFRESH_MS },
    flash: {
      batchSize: env.FLASH_BATCH_SIZE,
      claimIdleMs: env.FLASH_CLAIM_IDLE_MS,
      stockBuckets: env.FLASH_STOCK_BUCKETS,
    },
    shutdown: {
      drainMs: env.SHUTDOWN_DRAIN_MS,
      timeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    },
    workerMode: env.WORKER_MODE,
    queue: {
      outboxPollMs: env.OUTBOX_POLL_MS,
      outboxRetentionS: env.OUTBOX_RETENTION_S,
      jobLockMs: env.QUEUE_JOB_LOCK_MS,
    },
    orders: {
      paymentTimeoutS: env.ORDER_PAYMENT_TIMEOUT_S,
      sweepIntervalMs: env.ORDER_SWEEP_INTERVAL_MS,
    },
  };
}
