import { isIP } from 'node:net';
import { z } from 'zod';
import { subscribeFields } from './subscribe-fields.js';

// Every environment variable the service reads, in one place. docs/http-api.md fixes the
// names it lists; the rest are documented in .env.example and the README.

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().min(0);
const requestBudget = positiveInt.max(
  29000,
  "must be at most 29000 (below nginx's 30 s proxy_read_timeout)",
);
// Unset or empty (as .env.example leaves it): undefined, for a default decided elsewhere.
const optionalPositiveInt = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
  positiveInt.optional(),
);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));
const list = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );

// WeChat template ids are URL-safe base64-like strings (43 characters today).
const templateId = optionalString.pipe(
  z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a WeChat template id ([A-Za-z0-9_-])')
    .optional(),
);

const mysqlUrl = z.string().refine(isMysqlUrl, {
  message: 'must be mysql://user:pass@host:port/database',
});

function isMysqlUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (
      (url.protocol === 'mysql:' || url.protocol === 'mariadb:') &&
      url.hostname.length > 0 &&
      url.pathname.length > 1
    );
  } catch {
    return false;
  }
}

function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}

// host:port, host a name or an IPv4 address ([v6]:port for IPv6).
const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

function isHostPort(value: string): boolean {
  const m = HOST_PORT.exec(value);
  return m !== null && Number(m[1]) > 0 && Number(m[1]) <= 65535;
}

const hostPortList = list.pipe(
  z.array(z.string().refine(isHostPort, { message: 'must be comma-separated host:port' })),
);

function isAddressOrCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  if (rest.length > 0 || isIP(address) === 0) return false;
  if (bits === undefined) return true;
  const max = isIP(address) === 4 ? 32 : 128;
  return /^\d+$/.test(bits) && Number(bits) <= max;
}

/**
 * The JWT_SECRET line of .env.example. A copied .env that still carries it
 * would sign tokens with a secret everyone can read, so boot refuses it.
 */
export const JWT_SECRET_PLACEHOLDER = 'change-me-to-32-or-more-random-characters';

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: optionalString.pipe(mysqlUrl.optional()),
  DATABASE_REPLICA_URLS: list.pipe(z.array(mysqlUrl)),
  DATABASE_POOL_SIZE: positiveInt.default(10),
  DATABASE_POOL_QUEUE_LIMIT: positiveInt.default(1000),
  DATABASE_REPLICA_RESTORE_MS: positiveInt.default(10000),
  READ_YOUR_WRITES_MS: positiveInt.default(5000),
  EMBEDDED_DB_PATH: z.string().min(1).default('data/embedded.sqlite'),

  REDIS_URL: optionalString.pipe(
    z.string().refine(isRedisUrl, { message: 'must be redis://host:port/db' }).optional(),
  ),
  REDIS_CLUSTER_NODES: hostPortList,
  REDIS_SENTINELS: hostPortList,
  REDIS_SENTINEL_NAME: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be a Sentinel master name ([A-Za-z0-9._-])')
      .optional(),
  ),
  // Credentials of the cluster's nodes, or of the primary and replicas behind
  // Sentinel (a single server's go in REDIS_URL); the sentinels' own password.
  REDIS_USERNAME: optionalString,
  REDIS_PASSWORD: optionalString,
  REDIS_SENTINEL_PASSWORD: optionalString,
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,32}$/, '1-32 chars of [A-Za-z0-9:_.-]')
    .default('mp:'),
  REDIS_COMMAND_TIMEOUT_MS: positiveInt.default(1000),

  CACHE_L1_MAX_ENTRIES: positiveInt.default(10000),
  CACHE_L1_MAX_BYTES: positiveInt.default(8 * 1024 * 1024),
  CACHE_L1_MAX_TTL_MS: positiveInt.default(5000),

  JWT_SECRET: optionalString.pipe(
    z
      .string()
      .min(32, 'must be at least 32 characters')
      .refine((v) => v !== JWT_SECRET_PLACEHOLDER, {
        message: 'is the placeholder of .env.example: set a random one (openssl rand -base64 48)',
      })
      .optional(),
  ),
  // Secrets retired from signing that still verify tokens and open sealed session keys (rotation).
  JWT_PREVIOUS_SECRETS: list.pipe(
    z.array(
      z.string().min(32, 'must be a comma-separated list of secrets of at least 32 characters'),
    ),
  ),
  JWT_ACCESS_TTL: positiveInt.default(900),
  JWT_REFRESH_TTL: positiveInt.default(2592000),

  WECHAT_APPID: optionalString,
  WECHAT_SECRET: optionalString,
  WECHAT_API_BASE_URL: z.url().default('https://api.weixin.qq.com'),
  WECHAT_TIMEOUT_MS: positiveInt.default(5000),
  // The page WeChat's shipping and settlement messages open (set_msg_jump_path at boot).
  WECHAT_ORDER_MESSAGE_PAGE: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_\-/]{1,128}$/, 'must be a page path such as pages/order/detail')
      .refine((v) => !v.startsWith('/'), 'must not start with /')
      .optional(),
  ),
  // The message-push server (消息推送). Unset token: /wechat/push answers 404.
  WECHAT_PUSH_TOKEN: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9]{3,32}$/, "must be 3-32 letters or digits (WeChat's console rule)")
      .optional(),
  ),
  // The EncodingAESKey: 43 base64 characters without the trailing '=' (32 bytes).
  WECHAT_PUSH_AES_KEY: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9+/]{43}$/, "must be the 43-character EncodingAESKey (base64 without '=')")
      .optional(),
  ),
  CONTENT_CHECK_FAIL_OPEN: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  MEDIA_CHECK_RETRY_AFTER_S: positiveInt.default(1800),
  MEDIA_CHECK_MAX_ATTEMPTS: positiveInt.max(10).default(3),
  WECHAT_SUBSCRIBE_TEMPLATE_ORDER_PAID: templateId,
  WECHAT_SUBSCRIBE_TEMPLATE_ORDER_SHIPPED: templateId,
  WECHAT_SUBSCRIBE_TEMPLATE_ORDER_REFUNDED: templateId,
  WECHAT_SUBSCRIBE_TEMPLATE_ORDER_TIMEOUT: templateId,
  WECHAT_SUBSCRIBE_TEMPLATE_AFTER_SALES_APPROVED: templateId,
  WECHAT_SUBSCRIBE_TEMPLATE_AFTER_SALES_REJECTED: templateId,
  WECHAT_SUBSCRIBE_TEMPLATE_AFTER_SALES_REFUNDED: templateId,
  WECHAT_SUBSCRIBE_FIELDS_ORDER_PAID: subscribeFields,
  WECHAT_SUBSCRIBE_FIELDS_ORDER_SHIPPED: subscribeFields,
  WECHAT_SUBSCRIBE_FIELDS_ORDER_REFUNDED: subscribeFields,
  WECHAT_SUBSCRIBE_FIELDS_ORDER_TIMEOUT: subscribeFields,
  WECHAT_SUBSCRIBE_FIELDS_AFTER_SALES_APPROVED: subscribeFields,
  WECHAT_SUBSCRIBE_FIELDS_AFTER_SALES_REJECTED: subscribeFields,
  WECHAT_SUBSCRIBE_FIELDS_AFTER_SALES_REFUNDED: subscribeFields,
  WECHAT_SUBSCRIBE_STATE: z.enum(['formal', 'trial', 'developer']).default('formal'),
  WECHAT_SUBSCRIBE_PAGE: optionalString.pipe(
    z
      .string()
      .regex(
        /^[A-Za-z0-9_\-/]+(\?[!-~]*)?$/,
        'must be a page path such as pages/order/detail?id={orderId}',
      )
      .refine((v) => !v.startsWith('/'), 'must not start with /')
      .optional(),
  ),
  WECHAT_SUBSCRIBE_RATE_PER_MIN: positiveInt.default(600),

  WECHAT_PAY_MCHID: optionalString,
  WECHAT_PAY_MERCHANT_SERIAL: optionalString,
  WECHAT_PAY_PRIVATE_KEY_FILE: optionalString,
  WECHAT_PAY_APIV3_KEY: optionalString,
  WECHAT_PAY_PUBLIC_KEY_FILE: optionalString,
  WECHAT_PAY_PUBLIC_KEY_ID: optionalString.pipe(
    z
      .string()
      .regex(/^PUB_KEY_ID_\w+$/, 'must look like PUB_KEY_ID_…')
      .optional(),
  ),
  // WeChat Pay public keys still trusted after WeChat rotated to a new one, paired by position.
  WECHAT_PAY_PREVIOUS_PUBLIC_KEY_FILES: list,
  WECHAT_PAY_PREVIOUS_PUBLIC_KEY_IDS: list.pipe(
    z.array(z.string().regex(/^PUB_KEY_ID_\w+$/, 'must be a comma-separated list of PUB_KEY_ID_…')),
  ),
  WECHAT_PAY_PLATFORM_CERT_FILES: list,
  WECHAT_PAY_NOTIFY_URL: optionalString.pipe(z.url().optional()),
  WECHAT_PAY_API_BASE_URL: z.url().default('https://api.mch.weixin.qq.com'),
  WECHAT_PAY_TIMEOUT_MS: positiveInt.default(5000),
  ORDER_AUTO_COMPLETE_DAYS: z.coerce.number().positive().default(10),
  AFTER_SALES_DAYS: z.coerce.number().positive().default(15),
  PAYMENT_RECONCILE_AFTER_S: positiveInt.default(180),

  TRUST_PROXY: list.pipe(
    z.array(
      z.string().refine(isAddressOrCidr, {
        message: 'must be a comma-separated list of IP addresses or CIDRs',
      }),
    ),
  ),
  ADMIN_OPENIDS: list,
  CORS_ORIGINS: list,
  BODY_LIMIT_BYTES: positiveInt.default(262144),
  // Below nginx's proxy_read_timeout (30 s) / above its upstream keepalive_timeout (30 s): see README.
  HTTP_CONNECTION_TIMEOUT_MS: positiveInt.default(25000),
  HTTP_REQUEST_TIMEOUT_MS: positiveInt.default(15000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveInt.default(35000),
  // Request budgets: below nginx's proxy_read_timeout (30 s), so a request ends
  // here, in the envelope, before nginx gives up on it.
  REQUEST_BUDGET_MS: requestBudget.default(10000),
  REQUEST_BUDGET_ORDERS_MS: requestBudget.default(8000),
  REQUEST_BUDGET_WECHAT_MS: requestBudget.default(15000),

  THROTTLE_ENABLED: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  THROTTLE_DEFAULT_LIMIT: positiveInt.default(300),
  THROTTLE_DEFAULT_TTL: positiveInt.default(60),
  THROTTLE_LOGIN_LIMIT: positiveInt.default(10),
  THROTTLE_LOGIN_TTL: positiveInt.default(60),
  THROTTLE_ORDERS_LIMIT: positiveInt.default(20),
  THROTTLE_ORDERS_TTL: positiveInt.default(60),
  // Unset: the orders values (the flash-sale buy route counted as an order until it had its own).
  THROTTLE_FLASH_LIMIT: optionalPositiveInt,
  THROTTLE_FLASH_TTL: optionalPositiveInt,
  SETTINGS_REFRESH_MS: positiveInt.default(5000),

  FLASH_BATCH_SIZE: positiveInt.max(2000).default(500),
  FLASH_CLAIM_IDLE_MS: positiveInt.default(30000),
  FLASH_STOCK_BUCKETS: positiveInt.max(64).default(1),

  SHUTDOWN_DRAIN_MS: nonNegativeInt.default(5000),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(25000),
  WORKER_MODE: z.enum(['all', 'http', 'worker']).default('all'),
  ORDER_PAYMENT_TIMEOUT_S: positiveInt.default(900),
  ORDER_SWEEP_INTERVAL_MS: positiveInt.default(2000),
  OUTBOX_POLL_MS: positiveInt.default(100),
  OUTBOX_RETENTION_S: positiveInt.default(86400),
  QUEUE_JOB_LOCK_MS: positiveInt.default(30000),

  // Unset: on, except with NODE_ENV=production (app-config.ts decides).
  DOCS_ENABLED: z.enum(['true', 'false']).optional(),
  // The staff console (docs/console.md): where its built files are, and how
  // long a sign-in ticket lives (2 minutes; tests shorten it).
  CONSOLE_DIR: z.string().trim().min(1).default('dist/console'),
  CONSOLE_TICKET_TTL_MS: positiveInt.max(600_000).default(120_000),

  // Tracing: off (no span is made) unless an OTLP endpoint is given.
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.pipe(z.url().optional()),
  OTEL_SERVICE_NAME: z.string().trim().min(1).default('wx-mp-backend'),
  // Share of new traces kept; a request with a sampled traceparent is always kept.
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
});

export type Env = z.infer<typeof envSchema>;
