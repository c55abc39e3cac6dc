// Every call of the console: same origin, the session cookie sent by the
// browser (HttpOnly: this code never sees it), the CSRF header on every
// request. Types come from the OpenAPI document (`npm run sdk:types`).
import type { paths } from '../../sdk/src/api-types';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type JsonOf<R> = R extends { content: { 'application/json': infer J } } ? J : never;
type OkOf<Op> = Op extends { responses: infer R }
  ? R extends { 200: infer A }
    ? JsonOf<A>
    : R extends { 201: infer B }
      ? JsonOf<B>
      : never
  : never;
type OpOf<P extends keyof paths, M extends Method> = paths[P][M];

/** The `data` of a route's success answer. */
export type Data<P extends keyof paths, M extends Method = 'get'> =
  OkOf<OpOf<P, M>> extends { data: infer D } ? D : never;
/** A route's JSON body. */
export type Body<P extends keyof paths, M extends Method> =
  OpOf<P, M> extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never;
/** A route's query string. */
export type Query<P extends keyof paths, M extends Method = 'get'> =
  OpOf<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

/** An answer that is not a success, with the envelope's code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
  /** "503/50301 feature switched off", what the page shows. */
  describe(): string {
    return `${this.status}/${this.code} ${this.message}`;
  }
}

type Params = Record<string, string | number>;

/** `/api/v1/admin/orders/{id}` with `{ id: 3 }` → `/api/v1/admin/orders/3`, the query appended. */
export function urlOf(path: string, params: Params = {}, query: object = {}): string {
  const filled = path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(String(params[name])),
  );
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  }
  const qs = search.toString();
  return qs ? `${filled}?${qs}` : filled;
}

/** Listeners told when the session has ended (401), to show the sign-in page. */
export const signedOut = new Set<() => void>();

export async function call<P extends keyof paths, M extends Method>(
  method: M,
  path: P,
  options: {
    params?: Params;
    query?: Query<P, M>;
    body?: Body<P, M>;
    headers?: Record<string, string>;
  } = {},
): Promise<Data<P, M>> {
  const res = await fetch(urlOf(path, options.params, options.query ?? {}), {
    method: method.toUpperCase(),
    credentials: 'same-origin',
    headers: {
      'X-Console-CSRF': '1',
      ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...options.headers,
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  const envelope = (await res.json().catch(() => null)) as {
    code?: number;
    message?: string;
    data?: unknown;
  } | null;
  if (!res.ok || !envelope || envelope.code !== 0) {
    if (res.status === 401) for (const listener of signedOut) listener();
    throw new ApiError(res.status, envelope?.code ?? 0, envelope?.message ?? res.statusText);
  }
  return envelope.data as Data<P, M>;
}

export const get = <P extends keyof paths>(
  path: P,
  options: { params?: Params; query?: Query<P, 'get'> } = {},
) => call('get', path, options);

/** A fresh Idempotency-Key for a write that asks for one (refunds). */
export const idempotencyKey = () => crypto.randomUUID();
