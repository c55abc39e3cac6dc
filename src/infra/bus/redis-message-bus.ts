import { Logger } from '@nestjs/common';
import type { RedisClient } from '../redis/index.js';
import { MessageBus, type BusHandler } from './message-bus.js';

/**
 * Redis pub/sub. ioredis does not apply keyPrefix to channels, so the prefix
 * is added here: two deployments (or two test runs) on one Redis stay apart.
 * On Redis Cluster a PUBLISH reaches the subscribers of every node, so the
 * subscriber may sit on any of them.
 */
export class RedisMessageBus extends MessageBus {
  private readonly logger = new Logger('MessageBus');
  private readonly handlers = new Map<string, BusHandler[]>();

  /**
   * `subscriber` is a connection of its own, of the same topology: a
   * subscribed connection can do nothing else. It must queue while offline,
   * however long that lasts (offline queue, no retry limit), so that
   * subscriptions are made once Redis answers; ioredis re-subscribes after
   * every reconnect.
   */
  constructor(
    private readonly publisher: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly prefix: string,
  ) {
    super();
    this.subscriber.on('error', (err: Error) =>
      this.logger.warn(`subscriber error: ${err.message}`),
    );
    this.subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers.get(channel) ?? []) handler(message);
    });
  }

  async publish(channel: string, message: string): Promise<boolean> {
    try {
      await this.publisher.publish(this.prefix + channel, message);
      return true;
    } catch (err) {
      this.logger.warn(`publish on ${channel} failed: ${(err as Error).message}`);
      return false;
    }
  }

  subscribe(channel: string, handler: BusHandler): void {
    const full = this.prefix + channel;
    const existing = this.handlers.get(full);
    this.handlers.set(full, [...(existing ?? []), handler]);
    if (!existing) {
      this.subscriber
        .subscribe(full)
        .catch((err: Error) => this.logger.warn(`subscribe to ${channel} failed: ${err.message}`));
    }
  }

  /**
   * Resolves once every subscription made so far is active on Redis. Never
   * rejects: a replica may start before Redis does (the caller bounds the wait).
   */
  async ready(): Promise<void> {
    if (this.handlers.size === 0) return;
    await this.subscriber.subscribe(...this.handlers.keys()).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }
}
