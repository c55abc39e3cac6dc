import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags, OmitType } from '@nestjs/swagger';
import { CurrentUser, Roles, type AuthUser } from '../../common/auth/index.js';
import { AppError } from '../../common/errors/index.js';
import { ApiAnswer, DEFAULT_PAGE_SIZE, PageQuery, parseId } from '../../common/http/index.js';
import { AuditLog } from '../audit/index.js';
import { Transactions } from '../transactions/index.js';
import { ConsumerRegistry } from './consumer.registry.js';
import { QUEUE_DRIVER } from './queue.tokens.js';
import { jobIdOf, type QueueDriver } from './queue-driver.js';
import {
  deadLetterList,
  queueList,
  retriedJob,
  type DeadLetterList,
  type QueueView,
  type RetriedJob,
} from './queue.view.js';

/** `?limit=` of the dead-letter list (1-100, default 20; no cursor). */
export class DeadLettersQuery extends OmitType(PageQuery, ['cursor'] as const) {}

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
    private readonly transactions: Transactions,
    private readonly audit: AuditLog,
  ) {}

  @ApiOperation({ summary: 'List queues and their job counts' })
  @Get()
  @Roles('admin')
  @ApiAnswer(queueList)
  async list(): Promise<QueueView[]> {
    return Promise.all(
      this.registry.all().map(async (c) => ({
        name: c.name,
        events: [...c.events],
        counts: await this.driver.counts(c.name),
      })),
    );
  }

  @ApiOperation({ summary: "List a queue's dead letters" })
  @Get(':queue/dead-letters')
  @Roles('admin')
  @ApiAnswer(deadLetterList, { errors: ['NOT_FOUND'] })
  async deadLetters(
    @Param('queue') queue: string,
    @Query() query: DeadLettersQuery,
  ): Promise<DeadLetterList> {
    const name = this.known(queue);
    return { items: await this.driver.deadLetters(name, query.limit ?? DEFAULT_PAGE_SIZE) };
  }

  @ApiOperation({ summary: 'Retry a dead letter' })
  @Post(':queue/dead-letters/:jobId/retry')
  @Roles('admin')
  @HttpCode(200)
  @ApiAnswer(retriedJob, { errors: ['NOT_FOUND'] })
  async retry(
    @CurrentUser() admin: AuthUser,
    @Param('queue') queue: string,
    @Param('jobId') rawJobId: string,
  ): Promise<RetriedJob> {
    const name = this.known(queue);
    const jobId = jobIdOf(parseId(rawJobId.replace(/^e/, ''), 'dead letter'));
    // The retry happens in the queue, outside the database: the audit row is
    // written first and the retry last, so a refused retry (404) rolls the
    // row back and only a failed commit after a retry could lose one.
    await this.transactions.run(async (m) => {
      await this.audit.record(m, {
        actorId: admin.userId,
        action: 'dead_letter.retry',
        target: `job:${name}/${jobId}`,
        before: { state: 'dead' },
        after: { state: 'waiting' },
      });
      if (!(await this.driver.retry(name, jobId))) {
        throw new AppError('NOT_FOUND', 'dead letter not found');
      }
    });
    return { jobId, retried: true };
  }

  private known(queue: string): string {
    if (!this.registry.get(queue)) throw new AppError('NOT_FOUND', 'queue not found');
    return queue;
  }
}
