import { z } from 'zod';
import { apiView, intColumn, isoTime, rowId } from '../../common/http/index.js';

const count = () => intColumn();

/** A queue as GET /admin/queues shows it. */
export const queueView = apiView(
  'QueueView',
  z.strictObject({
    name: z.string().meta({ example: 'orders.payment-timeout' }),
    events: z.array(z.string()).meta({ example: ['order.placed'] }),
    counts: z.strictObject({
      waiting: count(),
      active: count(),
      delayed: count(),
      failed: count(),
    }),
  }),
);
export type QueueView = z.infer<typeof queueView>;

export const queueList = apiView('QueueList', z.array(queueView));

/** A job that used up its attempts (or failed unrecoverably), kept until retried. */
export const deadLetterView = apiView(
  'DeadLetterView',
  z.strictObject({
    jobId: z.string().meta({ example: 'e42' }),
    event: z.strictObject({
      id: rowId(),
      type: z.string().meta({ example: 'order.placed' }),
      aggregateType: z.string(),
      aggregateId: z.string(),
      requestId: z.string().nullable(),
      /** W3C traceparent of the request that caused the event: find its trace. */
      traceparent: z
        .string()
        .nullable()
        .meta({ example: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }),
      createdAt: isoTime(),
    }),
    attempts: count(),
    failedReason: z.string(),
    failedAt: isoTime().nullable(),
  }),
);

export const deadLetterList = apiView(
  'DeadLetterList',
  z.strictObject({ items: z.array(deadLetterView) }),
);
export type DeadLetterList = z.infer<typeof deadLetterList>;

export const retriedJob = apiView(
  'RetriedJob',
  z.strictObject({ jobId: z.string().meta({ example: 'e42' }), retried: z.literal(true) }),
);
export type RetriedJob = z.infer<typeof retriedJob>;
