import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, Not } from 'typeorm';
import { readOutboxBacklog } from '../../infra/queue/index.js';
import { AfterSalesRequest } from '../after-sales/index.js';
import { FlashSale } from '../flash-sales/index.js';
import { Order, type OrderStatus } from '../orders/index.js';
import { WechatPushMessage } from '../wechat-push/index.js';
import type { DashboardView } from './dashboard.view.js';

/** Orders whose money arrived (a refunded one was paid first). */
const PAID: OrderStatus[] = ['paid', 'shipped', 'completed', 'refunding', 'refunded'];
const REMIND_SHIPPING = 'trade_manage_remind_shipping';

/**
 * The dashboard's figures, each one indexed read: the day's orders by
 * `idx_orders_created_at` (a range), the open after-sales requests by
 * `uq_after_sales_open_order` (set only while open), the outbox's backlog by
 * `idx_outbox_unpublished`, the reminders by `idx_wechat_push_messages_name`,
 * the live sales by `idx_flash_sales_settled_ends`.
 */
@Injectable()
export class DashboardService {
  constructor(private readonly dataSource: DataSource) {}

  async read(since: Date): Promise<DashboardView> {
    const now = new Date();
    const [orders, openAfterSales, outbox, reminders, sales] = await Promise.all([
      this.dataSource
        .getRepository(Order)
        .createQueryBuilder('o')
        .select('COUNT(*)', 'placed')
        .addSelect(
          'COALESCE(SUM(CASE WHEN o.status IN (:...paid) THEN o.totalCents ELSE 0 END), 0)',
          'paid',
        )
        .addSelect('COALESCE(SUM(o.refundedCents), 0)', 'refunded')
        .where('o.createdAt >= :since', { since, paid: PAID })
        .getRawOne<{ placed: string; paid: string; refunded: string }>(),
      this.dataSource.getRepository(AfterSalesRequest).countBy({ openOrderId: Not(IsNull()) }),
      readOutboxBacklog(this.dataSource),
      this.dataSource
        .getRepository(WechatPushMessage)
        .createQueryBuilder('m')
        .where('m.name = :name AND m.receivedAt >= :since', { name: REMIND_SHIPPING, since })
        .getCount(),
      this.dataSource
        .getRepository(FlashSale)
        .createQueryBuilder('s')
        .where({ settledAt: IsNull() })
        .andWhere('s.startsAt <= :now AND s.endsAt > :now', { now })
        .orderBy('s.endsAt', 'ASC')
        .take(50)
        .getMany(),
    ]);
    return {
      since: since.toISOString(),
      orders: {
        placed: Number(orders?.placed ?? 0),
        paidCents: Number(orders?.paid ?? 0),
        refundedCents: Number(orders?.refunded ?? 0),
      },
      afterSales: { open: openAfterSales },
      outbox: {
        unpublished: outbox.unpublished,
        oldestUnpublishedAt: outbox.oldestAt?.toISOString() ?? null,
      },
      shippingReminders: reminders,
      flashSales: sales.map((s) => ({
        id: s.id,
        productName: s.productName,
        stock: s.stock,
        persisted: Math.max(0, s.stock - s.remaining),
        startsAt: s.startsAt.toISOString(),
        endsAt: s.endsAt.toISOString(),
      })),
    };
  }
}
