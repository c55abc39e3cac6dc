export { QueueModule } from './queue.module.js';
export { OutboxWriter } from './outbox.writer.js';
export { ConsumerRegistry } from './consumer.registry.js';
export { OutboxEvent } from './outbox-event.entity.js';
export { readOutboxBacklog, type OutboxBacklog } from './outbox-backlog.js';
export { ProcessedEvent } from './processed-event.entity.js';
export { UnrecoverableJobError } from './queue.types.js';
export type { ConsumerDefinition, DeliveredEvent, NewEvent, PeriodicTask } from './queue.types.js';
