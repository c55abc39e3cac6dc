import { randomUUID } from 'node:crypto';
import { In, IsNull, LessThan, Not } from 'typeorm';
import { Transactions } from '../transactions/index.js';
import type { ConsumerRegistry } from './consumer.registry.js';
import { OutboxEvent } from './outbox-event.entity.js';
import { ProcessedEvent } from './processed-event.entity.js';
import { jobIdOf, toJobData, type JobToAdd, type QueueDriver } from './queue-driver.js';
import type { JobLogger } from './queue-metrics.js';
import type { ConsumerDefinition } from './queue.types.js';
import type { RedisClient } from '../redis/index.js';

const BATCH = 500;
const LEADER_KEY = 'queue:relay-leader';
const PURGE_EVERY_MS = 60_000;
const PURGE_BATCH = 5000;
/** Pause after a failed publish (Redis away): the events wait in the outbox meanwhile. */
const RETRY_AFTER_MS = 1000;

// Leadership: one relay publishes at a time, so events leave in id order.
// Renewed on every pass; lost when this process stops renewing it.
const TAKE_OR_RENEW = `
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

type LeaderCommands = RedisClient & {
  queueRelayLead(key: string, instance: string, ttlMs: number): Promise<number>;
};

export interface RelayOptions {
  pollMs: number;
  retentionS: number;
  /** The app's shared Redis client for the leader lock; null in embedded mode (one process). */
  redis: RedisClient | null;
  log: JobLogger;
}

/**
 * Moves committed outbox events to the queues of their consumers, oldest
 * first, then stamps them published. At least once: a crash between the
 * publish and the stamp publishes again (the job id, the event id, dedupes;
 * processed-event records catch the rest); a crash before the publish loses
 * nothing, the rows are still unpublished. Published rows are purged after
 * OUTBOX_RETENTION_S, processed-event records after twice that.
 */
export class OutboxRelay {
  private readonly instance = randomUUID();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private lastPurge = 0;
  /** The last publish error, logged once per outage (and again if it changes). */
  private failing: string | undefined;

  constructor(
    private readonly transactions: Transactions,
    private readonly registry: ConsumerRegistry,
    private readonly driver: QueueDriver,
    private readonly options: RelayOptions,
  ) {}

  async start(): Promise<void> {
    // In-process jobs died with the last process: publish again what is kept;
    // consumers skip what they had processed.
    if (!this.driver.durable) {
      await this.transactions.run((m) =>
        m.update(OutboxEvent, { publishedAt: Not(IsNull()) }, { publishedAt: null }),
      );
    }
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().then((next) => this.schedule(next));
    }, delayMs);
    this.timer.unref();
  }

  /** One pass; resolves with the delay before the next. */
  private async pass(): Promise<number> {
    try {
      if (!(await this.lead())) return this.options.pollMs * 5;
      const published = await this.publishBatch();
      if (this.failing) this.options.log.warn({}, 'outbox relay: publishing again');
      this.failing = undefined;
      await this.purgeIfDue();
      return published === BATCH ? 0 : this.options.pollMs;
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (this.failing !== error) {
        this.options.log.warn(
          { error },
          'outbox relay: publish failed; events stay in the outbox and are retried',
        );
      }
      this.failing = error;
      return RETRY_AFTER_MS;
    }
  }

  private async lead(): Promise<boolean> {
    const redis = this.options.redis as LeaderCommands | null;
    if (!redis) return true;
    if (!redis.queueRelayLead) {
      redis.defineCommand('queueRelayLead', { lua: TAKE_OR_RENEW, numberOfKeys: 1 });
    }
    const ttl = Math.max(5000, this.options.pollMs * 20);
    return (await redis.queueRelayLead(LEADER_KEY, this.instance, ttl)) === 1;
  }

  /** Publishes the oldest unpublished events; returns how many. */
  async publishBatch(): Promise<number> {
    const rows = await this.transactions.run((m) =>
      m.find(OutboxEvent, { where: { publishedAt: IsNull() }, order: { id: 'ASC' }, take: BATCH }),
    );
    if (rows.length === 0) return 0;
    const perConsumer = new Map<ConsumerDefinition, JobToAdd[]>();
    for (const row of rows) {
      const data = toJobData(row);
      for (const consumer of this.registry.of(row.type)) {
        const delay = consumer.delayMs?.({ ...data, createdAt: row.createdAt }) ?? 0;
        const jobs = perConsumer.get(consumer) ?? [];
        jobs.push({ id: jobIdOf(row.id), data, delayMs: Math.max(0, Math.round(delay)) });
        perConsumer.set(consumer, jobs);
      }
    }
    for (const [consumer, jobs] of perConsumer) await this.driver.add(consumer, jobs);
    const ids = rows.map((r) => r.id);
    await this.transactions.run((m) =>
      m.update(OutboxEvent, { id: In(ids) }, { publishedAt: new Date() }),
    );
    return rows.length;
  }

  private async purgeIfDue(): Promise<void> {
    if (Date.now() - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = Date.now();
    const retentionMs = this.options.retentionS * 1000;
    await this.transactions.run(async (m) => {
      const old = await m.find(OutboxEvent, {
        select: { id: true },
        where: { publishedAt: LessThan(new Date(Date.now() - retentionMs)) },
        take: PURGE_BATCH,
      });
      if (old.length > 0) await m.delete(OutboxEvent, { id: In(old.map((r) => r.id)) });
      await m.delete(ProcessedEvent, {
        processedAt: LessThan(new Date(Date.now() - 2 * retentionMs)),
      });
    });
  }
}
