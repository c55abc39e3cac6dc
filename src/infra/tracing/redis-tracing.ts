import type { Cluster, Redis } from 'ioredis';
import { SpanKind, inSpan, tracing } from './tracing.js';

type Command = { name: string; promise: Promise<unknown> };

/**
 * A client span per command of the app's shared Redis client, named by the
 * command only (keys and arguments hold session ids and tokens), under the
 * active span only. BullMQ's own connections are not traced: their blocking
 * polls would be noise. Installs nothing when tracing is off.
 */
export function traceRedis(client: Redis | Cluster): void {
  if (!tracing()) return;
  const target = client as unknown as {
    sendCommand(command: Command, ...rest: unknown[]): unknown;
  };
  const send = target.sendCommand.bind(target);
  target.sendCommand = (command, ...rest) => {
    let sent: unknown;
    // The command's own promise settles the span; what sendCommand returns is left as it was.
    void inSpan(
      `redis ${command.name}`,
      { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'redis' } },
      () => {
        sent = send(command, ...rest);
        return command.promise;
      },
    ).catch(() => undefined);
    return sent;
  };
}
