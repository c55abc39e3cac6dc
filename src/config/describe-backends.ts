import type { AppConfig, HostPort, RedisTopology } from './app-config.js';

/**
 * The one line a server prints before anything else: which database, which
 * shared stores, which WeChat and WeChat Pay this process talks to. It names
 * hosts and modes only, never credentials.
 */
export function describeBackends(config: AppConfig): string {
  const db = config.database;
  const database =
    db.kind === 'embedded'
      ? `embedded SQLite at ${db.path}`
      : `MySQL ${db.primary.host}:${db.primary.port}/${db.primary.database}` +
        (db.replicas.length > 0 ? ` + ${db.replicas.length} read replica(s)` : '');
  const redis = config.redis
    ? describeRedis(config.redis.topology)
    : 'in-process (single replica only)';
  const wechat =
    config.wechat.appId && config.wechat.secret
      ? `real (${config.wechat.appId} at ${config.wechat.apiBaseUrl})`
      : 'sandbox (any code logs in)';
  const pay =
    config.payments.kind === 'wechat'
      ? `real (mchid ${config.payments.mchId})`
      : config.payments.kind === 'sandbox'
        ? 'sandbox'
        : 'off (payment routes answer 503)';
  return `backends: database=${database}; redis=${redis}; wechat=${wechat}; wechat-pay=${pay}; jwt-secret=${jwtSource(config)}`;
}

function jwtSource(config: AppConfig): string {
  if (config.jwt.secretFile) return `development file ${config.jwt.secretFile}`;
  return config.jwt.generated ? 'random for this run' : 'JWT_SECRET';
}

function describeRedis(topology: RedisTopology): string {
  const list = (nodes: HostPort[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  switch (topology.kind) {
    case 'single':
      return `Redis ${redactedUrl(topology.url)}`;
    case 'cluster':
      return `Redis Cluster (seeds ${list(topology.nodes)})`;
    case 'sentinel':
      return `Redis via Sentinel (master ${topology.name}, sentinels ${list(topology.sentinels)})`;
  }
}

/** A Redis URL may carry a password: only its host, port and db are shown. */
function redactedUrl(value: string): string {
  const url = new URL(value);
  return `${url.hostname}:${url.port || '6379'}${url.pathname.length > 1 ? url.pathname : ''}`;
}
