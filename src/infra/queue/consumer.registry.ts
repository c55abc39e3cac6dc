import { Injectable } from '@nestjs/common';
import type { ConsumerDefinition, PeriodicTask } from './queue.types.js';

const CONSUMER_NAME = /^[a-z0-9.-]{1,64}$/;

/**
 * Every consumer of the app, registered by the domain modules at init. The
 * relay fans each event out to the consumers of its type; the worker runtime
 * starts one worker per consumer, and the periodic tasks.
 */
@Injectable()
export class ConsumerRegistry {
  private readonly consumers = new Map<string, ConsumerDefinition>();
  private readonly periodic: PeriodicTask[] = [];

  register<P>(consumer: ConsumerDefinition<P>): void {
    if (!CONSUMER_NAME.test(consumer.name)) {
      throw new Error(`consumer name ${consumer.name} is not [a-z0-9.-]{1,64}`);
    }
    if (this.consumers.has(consumer.name)) {
      throw new Error(`consumer ${consumer.name} is registered twice`);
    }
    this.consumers.set(consumer.name, consumer as ConsumerDefinition);
  }

  /** A task every worker process runs every `everyMs` (a sweeper), never two runs at once. */
  registerTask(task: PeriodicTask): void {
    this.periodic.push(task);
  }

  tasks(): readonly PeriodicTask[] {
    return this.periodic;
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
