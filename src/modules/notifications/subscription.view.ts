import { z } from 'zod';
import { apiView, intColumn } from '../../common/http/index.js';

/** What a configured template is for, as the API shows it. */
export const SUBSCRIPTION_TOPICS = [
  'order_paid',
  'order_shipped',
  'order_refunded',
  'order_timeout',
  'after_sales_approved',
  'after_sales_rejected',
  'after_sales_refunded',
] as const;
export type SubscriptionTopic = (typeof SUBSCRIPTION_TOPICS)[number];

export const subscriptionView = apiView(
  'SubscriptionView',
  z.strictObject({
    templateId: z.string(),
    topic: z.enum(SUBSCRIPTION_TOPICS),
    credits: intColumn().meta({ description: 'messages of this template the user still allows' }),
  }),
);
export type SubscriptionView = z.infer<typeof subscriptionView>;

export const subscriptionList = apiView(
  'SubscriptionList',
  z.strictObject({ items: z.array(subscriptionView) }),
);
export type SubscriptionList = z.infer<typeof subscriptionList>;
