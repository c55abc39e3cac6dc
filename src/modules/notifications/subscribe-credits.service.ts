import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { validationError } from '../../common/errors/index.js';
import { APP_CONFIG, type AppConfig, type SubscribeKind } from '../../config/index.js';
import { Transactions, isDuplicateKey } from '../../infra/transactions/index.js';
import { lockUserRow } from '../users/index.js';
import { SubscribeCredit } from './subscribe-credit.entity.js';
import type { SubscriptionTopic, SubscriptionView } from './subscription.view.js';

const TOPIC: Record<SubscribeKind, SubscriptionTopic> = {
  orderPaid: 'order_paid',
  orderShipped: 'order_shipped',
  orderRefunded: 'order_refunded',
  orderTimeout: 'order_timeout',
  afterSalesApproved: 'after_sales_approved',
  afterSalesRejected: 'after_sales_rejected',
  afterSalesRefunded: 'after_sales_refunded',
};

/**
 * The one-time send credits of wx.requestSubscribeMessage: an acceptance adds
 * one, a message spends one (a guarded UPDATE that never goes below zero).
 */
@Injectable()
export class SubscribeCredits {
  /** Configured template id → its topic. */
  private readonly topics: ReadonlyMap<string, SubscriptionTopic>;

  constructor(
    private readonly transactions: Transactions,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const entries = Object.entries(config.subscribe.templates).flatMap(([kind, template]) =>
      template ? [[template.templateId, TOPIC[kind as SubscribeKind]] as const] : [],
    );
    this.topics = new Map(entries);
  }

  /** Adds one credit per accepted template; all or nothing, and a template not configured is a 400. */
  async accept(userId: number, templateIds: readonly string[]): Promise<SubscriptionView[]> {
    const unknown = templateIds.flatMap((id, i) =>
      this.topics.has(id)
        ? []
        : [{ field: `accepted[${i}]`, message: `${id} is not a subscribe template of this app` }],
    );
    if (unknown.length > 0) throw validationError(unknown);
    return this.transactions.run(async (m) => {
      // Concurrent first acceptances of one user each find no credit row, take
      // a gap lock with their UPDATE and then INSERT into the gap: InnoDB
      // deadlocks them pairwise, and eight at once outlast the transaction's
      // retries (409s). On the user's row lock they queue instead.
      await lockUserRow(m, userId);
      for (const templateId of templateIds) await this.add(m, userId, templateId);
      if (templateIds.length === 0) return [];
      const rows = await m
        .createQueryBuilder(SubscribeCredit, 'c')
        .where('c.user_id = :userId AND c.template_id IN (:...templateIds)', {
          userId,
          templateIds,
        })
        .orderBy('c.id')
        .getMany();
      return rows.map((r) => ({
        templateId: r.templateId,
        topic: this.topics.get(r.templateId)!,
        credits: r.credits,
      }));
    });
  }

  /** Whether `templateId` is one of the configured subscribe templates. */
  isTemplate(templateId: string): boolean {
    return this.topics.has(templateId);
  }

  /** Adds one credit in `m`'s transaction (WeChat's own word: an acceptance, a failed send). */
  async grant(m: EntityManager, userId: number, templateId: string): Promise<void> {
    await lockUserRow(m, userId);
    await this.add(m, userId, templateId);
  }

  /** Removes every credit of the template in `m`'s transaction (the user refused or WeChat banned it). */
  async revoke(m: EntityManager, userId: number, templateId: string): Promise<void> {
    await m
      .createQueryBuilder()
      .update(SubscribeCredit)
      .set({ credits: 0 })
      .where('user_id = :userId AND template_id = :templateId AND credits > 0', {
        userId,
        templateId,
      })
      .execute();
  }

  /** Spends one credit in `m`'s transaction: false when the user has none left (send nothing). */
  async spend(m: EntityManager, userId: number, templateId: string): Promise<boolean> {
    const spent = await m
      .createQueryBuilder()
      .update(SubscribeCredit)
      .set({ credits: () => 'credits - 1' })
      .where('user_id = :userId AND template_id = :templateId AND credits > 0', {
        userId,
        templateId,
      })
      .execute();
    return spent.affected === 1;
  }

  private async add(m: EntityManager, userId: number, templateId: string): Promise<void> {
    const increment = () =>
      m
        .createQueryBuilder()
        .update(SubscribeCredit)
        .set({ credits: () => 'credits + 1' })
        .where('user_id = :userId AND template_id = :templateId', { userId, templateId })
        .execute();
    if ((await increment()).affected === 1) return;
    try {
      await m.insert(SubscribeCredit, { userId, templateId, credits: 1 });
    } catch (err) {
      // A concurrent first acceptance inserted the row: add to it instead.
      if (!isDuplicateKey(err)) throw err;
      await increment();
    }
  }
}
