import type { Command } from 'ioredis';
import { DeadlineExceededError } from '../../common/errors/index.js';
import { remainingBudgetMs } from '../../common/http/index.js';
import type { RedisClient } from './redis-client.js';

/** `sendCommand` of both Redis and Cluster (which adds a node for its redirects). */
interface CommandSender {
  sendCommand(command: Command, ...rest: unknown[]): unknown;
}

/**
 * A request's Redis commands wait at most what is left of its budget. ioredis
 * has one commandTimeout per client, so a command whose budget would run out
 * first is raced with it: the caller gets DeadlineExceededError when the
 * budget ends, and the command itself stays queued on the connection until
 * Redis answers or commandTimeout rejects it; that late answer is ignored.
 * A late "Command timed out" still goes to `failed` (the RedisGate), so a
 * frozen Redis shuts the gate even when budgets shorter than commandTimeout
 * end every request first. The budget's own end says nothing about Redis and
 * shuts nothing.
 * Only plain commands are raced (not those written into a pipeline or MULTI,
 * which ioredis sends with a stream), and only when the budget is shorter
 * than commandTimeout: on the usual path no timer is armed.
 */
export function bindCommandsToDeadlines(
  client: RedisClient,
  commandTimeoutMs: number,
  failed: (err: unknown) => void,
): void {
  const target = client as unknown as CommandSender;
  const send = target.sendCommand.bind(target);
  target.sendCommand = (command: Command, ...rest: unknown[]) => {
    const remaining = remainingBudgetMs();
    // A stream (pipeline, MULTI) or a cluster redirect's node: passed through as it came.
    if (rest.some((r) => r !== undefined) || remaining >= commandTimeoutMs) {
      return send(command, ...rest);
    }
    if (remaining <= 0) {
      command.reject(new DeadlineExceededError());
      return command.promise;
    }
    send(command);
    const raced = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new DeadlineExceededError()), remaining);
      command.promise.then(
        (value: unknown) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          failed(err);
          reject(err as Error);
        },
      );
    });
    return raced;
  };
}
