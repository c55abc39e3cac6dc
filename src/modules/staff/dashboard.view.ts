import { z } from 'zod';
import { apiView, intColumn, isoTime, rowId } from '../../common/http/index.js';

/** A sum of cents: not bounded like a column (a day's takings may pass 2^31). */
const cents = () => z.int().min(0);

/** The console's dashboard: the day's orders, the backlogs, the live flash sales (docs/staff.md#dashboard). */
export const dashboardView = apiView(
  'DashboardView',
  z.strictObject({
    since: isoTime().meta({
      description: 'the figures of `orders` and `shippingReminders` count from here',
    }),
    orders: z.strictObject({
      placed: intColumn().meta({ description: 'orders placed since `since`' }),
      paidCents: cents().meta({ description: 'the totals of those that were paid' }),
      refundedCents: cents().meta({ description: 'what was refunded of them' }),
    }),
    afterSales: z.strictObject({
      open: intColumn().meta({ description: 'requests not yet rejected, cancelled or refunded' }),
    }),
    outbox: z.strictObject({
      unpublished: intColumn().meta({ description: 'events not yet handed to the queues' }),
      oldestUnpublishedAt: isoTime().nullable(),
    }),
    shippingReminders: intColumn().meta({
      description:
        "WeChat's reminders to ship (trade_manage_remind_shipping) received since `since`",
    }),
    flashSales: z
      .array(
        z.strictObject({
          id: rowId(),
          productName: z.string(),
          stock: intColumn(),
          persisted: intColumn().meta({
            description:
              'units the database has turned into orders (admitted units are stock − the public remaining)',
          }),
          startsAt: isoTime(),
          endsAt: isoTime(),
        }),
      )
      .meta({ description: 'the sales live now (started, not ended)' }),
  }),
);
export type DashboardView = z.infer<typeof dashboardView>;
