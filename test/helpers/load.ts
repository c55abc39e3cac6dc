import { Agent, request } from 'node:http';

/** One request of a load mix. */
export interface LoadRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** Picks the next request; `n` counts requests of this run. */
export type LoadMix = (n: number) => LoadRequest;

export interface LoadResult {
  total: number;
  byStatus: Record<number, number>;
  /** Requests that got a status >= 500, by method. */
  serverErrors: { method: string; status: number; body: string }[];
  /** Requests that got no HTTP answer at all (reset, refused, hang up). */
  connectionErrors: { method: string; error: string }[];
  byMethod: Record<string, number>;
  /** Every answered non-GET request with its answer, to check what was written. */
  writes: { request: LoadRequest; status: number; body: string }[];
}

interface Answer {
  status: number;
  body: string;
}

function send(agent: Agent, base: URL, r: LoadRequest): Promise<Answer> {
  const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        method: r.method,
        path: r.path,
        agent,
        timeout: 15_000,
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...r.headers,
        },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Steady closed-loop load: `concurrency` clients on keep-alive connections,
 * each sending the next request of `mix` as soon as the previous one is
 * answered, until `stop()` is called. Every answer is recorded.
 */
export function startLoad(
  baseUrl: string,
  mix: LoadMix,
  concurrency: number,
): { stop(): Promise<LoadResult> } {
  const base = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const result: LoadResult = {
    total: 0,
    byStatus: {},
    serverErrors: [],
    connectionErrors: [],
    byMethod: {},
    writes: [],
  };
  let running = true;
  let n = 0;
  const worker = async () => {
    while (running) {
      const r = mix(n++);
      result.total += 1;
      result.byMethod[r.method] = (result.byMethod[r.method] ?? 0) + 1;
      try {
        const answer = await send(agent, base, r);
        result.byStatus[answer.status] = (result.byStatus[answer.status] ?? 0) + 1;
        if (answer.status >= 500) {
          result.serverErrors.push({ method: r.method, status: answer.status, body: answer.body });
        }
        if (r.method !== 'GET') result.writes.push({ request: r, ...answer });
      } catch (err) {
        result.connectionErrors.push({ method: r.method, error: (err as Error).message });
      }
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      agent.destroy();
      return result;
    },
  };
}
