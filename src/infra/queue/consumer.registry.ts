import { Injectable } from '@nestjs/common';
import type { ConsumerDefinition } from './queue.types.js';

const CONSUMER_NAME = /^[a-z0-9.-]{1,64}$/;

/**
 * Every consumer of the app, registered by the domain modules at init. The
 * relay fans each event out to the consumers of its type; the worker runtime
 * starts one worker per consumer.
 */
@Injectable()
export class ConsumerRegistry {
  private readonly consumers = new Map<string, ConsumerDefinition>();

  register<P>(consumer: ConsumerDefinition<P>): void {
    if (!CONSUMER_NAME.test(consumer.name)) {
      throw new Error(`consumer name ${consumer.name} is not [a-z0-9.-]{1,64}`);
    }
    if (this.consumers.has(consumer.name)) {
      throw new Error(`consumer ${consumer.name} is registered twice`);
    }
    this.consumers.set(consumer.name, consumer as ConsumerDefinition);
  }

  all(): ConsumerDefinition[] {
    return [...this.consumers.values()];
  }

  get(name: string): ConsumerDefinition | undefined {
    return this.consumers.get(name);
  }

  /** The consumers subscribed to `type`. */
  of(type: string): ConsumerDefinition[] {
    return this.all().filter((c) => c.events.includes(type));
  }
}
