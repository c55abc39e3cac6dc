export type BusHandler = (message: string) => void;

/**
 * Cross-replica broadcast (cache and session invalidation). Every replica,
 * the sender included, receives each message; handlers must be idempotent.
 * Delivery is best effort: consumers keep a short local TTL as a safety net.
 * Used as the injection token.
 */
export abstract class MessageBus {
  /** Resolves to false when the message could not be sent (Redis down). */
  abstract publish(channel: string, message: string): Promise<boolean>;
  abstract subscribe(channel: string, handler: BusHandler): void;
}
