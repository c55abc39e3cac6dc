import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { currentRequestId } from '../../common/http/index.js';
import { activeTraceparent } from '../tracing/index.js';
import { insertMany } from '../database/index.js';
import { OutboxEvent } from './outbox-event.entity.js';
import type { NewEvent } from './queue.types.js';

/**
 * Appends domain events to the outbox through the caller's transaction
 * manager (never a repository: it would not join the transaction), so the
 * event commits or rolls back with the state change that caused it. The
 * current request id and trace context go with each event.
 */
@Injectable()
export class OutboxWriter {
  async append(manager: EntityManager, events: NewEvent | readonly NewEvent[]): Promise<void> {
    const list = Array.isArray(events) ? events : [events as NewEvent];
    if (list.length === 0) return;
    const requestId = currentRequestId() ?? null;
    const traceparent = activeTraceparent();
    // The app's clock, not the database's default: its time zone may not be UTC.
    const createdAt = new Date();
    // One multi-row INSERT, without the query builder's per-value overhead.
    await insertMany(
      manager,
      OutboxEvent,
      list.map((e) => ({
        type: e.type,
        aggregateType: e.aggregateType,
        aggregateId: String(e.aggregateId),
        payload: JSON.stringify(e.payload),
        requestId,
        traceparent,
        createdAt,
      })),
    );
  }
}
