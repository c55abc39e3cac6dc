import { MessageBus, type BusHandler } from './message-bus.js';

/** In-process bus for the embedded mode: one replica, so local delivery is enough. */
export class MemoryMessageBus extends MessageBus {
  private readonly handlers = new Map<string, BusHandler[]>();

  publish(channel: string, message: string): Promise<boolean> {
    const handlers = this.handlers.get(channel) ?? [];
    // Asynchronous like Redis, so callers never depend on synchronous delivery.
    queueMicrotask(() => handlers.forEach((h) => h(message)));
    return Promise.resolve(true);
  }

  subscribe(channel: string, handler: BusHandler): void {
    this.handlers.set(channel, [...(this.handlers.get(channel) ?? []), handler]);
  }
}
