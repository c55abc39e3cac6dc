import { ServerResponse } from 'node:http';
import type { ShutdownState } from './shutdown-state.js';

export interface ClosingResponses {
  /** Node's `ServerResponse` server option. */
  ServerResponse: typeof ServerResponse;
  /** Binds the state once the application (which owns it) exists. */
  follow(state: ShutdownState): void;
}

/**
 * Once the drain has begun, every answer says `Connection: close` and its
 * connection closes after it. Decided where the head is written, not when the
 * request arrived: a request in flight when the signal came would otherwise
 * answer keep-alive, and its client would send its next request on a
 * connection that is about to close. Every answer passes here (Node writes an
 * implicit head through writeHead too), including those that bypass Fastify's
 * hooks.
 */
export function closingResponses(): ClosingResponses {
  let state: ShutdownState | undefined;
  class ClosingResponse extends ServerResponse {
    override writeHead(...args: [number, ...unknown[]]): this {
      // Node then writes `Connection: close` itself and ends the connection after this answer.
      if (state?.isDraining) this.shouldKeepAlive = false;
      return super.writeHead(...(args as Parameters<ServerResponse['writeHead']>));
    }
  }
  return {
    // Node makes it with the request's own type, whatever the option's generic says.
    ServerResponse: ClosingResponse as typeof ServerResponse,
    follow: (s) => {
      state = s;
    },
  };
}
