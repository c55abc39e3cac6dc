/** Injection token of the QueueDriver: BullMQ with Redis, in-process without. */
export const QUEUE_DRIVER = Symbol('QUEUE_DRIVER');
