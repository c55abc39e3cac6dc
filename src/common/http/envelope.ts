/** The one response shape of the API (docs/http-api.md, "Envelope"). */
export interface Envelope<T = unknown> {
  code: number;
  message: string;
  data: T;
  requestId: string;
}

export function okEnvelope<T>(data: T, requestId: string): Envelope<T> {
  return { code: 0, message: 'ok', data, requestId };
}
