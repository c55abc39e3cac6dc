import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiTags, OmitType } from '@nestjs/swagger';
import { Roles } from '../../common/auth/index.js';
import { AppError } from '../../common/errors/index.js';
import { DEFAULT_PAGE_SIZE, PageQuery, parseId } from '../../common/http/index.js';
import { ConsumerRegistry } from './consumer.registry.js';
import { QUEUE_DRIVER } from './queue.tokens.js';
import { jobIdOf, type DeadLetter, type QueueCounts, type QueueDriver } from './queue-driver.js';

/** `?limit=` of the dead-letter list (1-100, default 20; no cursor). */
export class DeadLettersQuery extends OmitType(PageQuery, ['cursor'] as const) {}

export interface QueueView {
  name: string;
  events: readonly string[];
  counts: QueueCounts;
}

/**
 * Operators' view of the queues: job counts, the dead letters (jobs that used
 * up their attempts or failed unrecoverably) and retrying one. A retried
 * job starts with fresh attempts; its consumer still skips it if it had
 * been processed after all.
 */
@ApiTags('queues admin')
@Controller('admin/queues')
export class DeadLettersController {
  constructor(
    private readonly registry: ConsumerRegistry,
    @Inject(QUEUE_DRIVER) private readonly driver: QueueDriver,
  ) {}

  @Get()
  @Roles('admin')
  async list(): Promise<QueueView[]> {
    return Promise.all(
      this.registry.all().map(async (c) => ({
        name: c.name,
        events: c.events,
        counts: await this.driver.counts(c.name),
      })),
    );
  }

  @Get(':queue/dead-letters')
  @Roles('admin')
  async deadLetters(
    @Param('queue') queue: string,
    @Query() query: DeadLettersQuery,
  ): Promise<{ items: DeadLetter[] }> {
    const name = this.known(queue);
    return { items: await this.driver.deadLetters(name, query.limit ?? DEFAULT_PAGE_SIZE) };
  }

  @Post(':queue/dead-letters/:jobId/retry')
  @Roles('admin')
  @HttpCode(200)
  async retry(
    @Param('queue') queue: string,
    @Param('jobId') rawJobId: string,
  ): Promise<{ jobId: string; retried: true }> {
    const name = this.known(queue);
    const jobId = jobIdOf(parseId(rawJobId.replace(/^e/, ''), 'dead letter'));
    if (!(await this.driver.retry(name, jobId))) {
      throw new AppError('NOT_FOUND', 'dead letter not found');
    }
    return { jobId, retried: true };
  }

  private known(queue: string): string {
    if (!this.registry.get(queue)) throw new AppError('NOT_FOUND', 'queue not found');
    return queue;
  }
}
