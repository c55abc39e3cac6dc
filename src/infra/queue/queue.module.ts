import { Global, Module } from '@nestjs/common';
import { ConsumerRegistry } from './consumer.registry.js';
import { OutboxWriter } from './outbox.writer.js';

/**
 * Asynchronous work: the outbox writer every domain uses inside its
 * transactions, and the registry its consumers join.
 */
@Global()
@Module({
  providers: [OutboxWriter, ConsumerRegistry],
  exports: [OutboxWriter, ConsumerRegistry],
})
export class QueueModule {}
