import type { z } from 'zod';
import type { ErrorReason } from '../errors/error-codes.js';

export const API_ANSWERS = 'api:answers';

export interface AnswerHeader {
  description: string;
  schema: { type: 'string' | 'integer'; enum?: string[] };
}

export interface ApiAnswerOptions {
  /** HTTP status of this answer; 200 by default. */
  status?: number;
  description?: string;
  headers?: Record<string, AnswerHeader>;
  /**
   * Error reasons (rows of the error table) this route can answer beyond the
   * ones its metadata implies: 400, 429, 500 and 503 everywhere, 401 on
   * authenticated routes, 403 with a role, 404 and 414 with a path id, 413 with a body.
   */
  errors?: ErrorReason[];
}

/** A success answer that is not JSON in the envelope (a PNG, say). */
export interface BinaryAnswer {
  mediaType: string;
}

export interface ApiAnswerMeta extends ApiAnswerOptions {
  data: z.ZodType | BinaryAnswer;
}

/**
 * Documents a successful answer of the route: `data` is the schema of the
 * envelope's `data` (an apiView, or z.null()), or `{ mediaType }` for a
 * route whose success is raw bytes (its errors stay JSON). Repeat it for a
 * route with more than one success status (POST /orders: 201, and 200 for a replay).
 */
export function ApiAnswer(
  data: z.ZodType | BinaryAnswer,
  options: ApiAnswerOptions = {},
): MethodDecorator {
  return (_target, _key, descriptor) => {
    const previous = (Reflect.getMetadata(API_ANSWERS, descriptor.value as object) ??
      []) as ApiAnswerMeta[];
    Reflect.defineMetadata(
      API_ANSWERS,
      [...previous, { ...options, data }],
      descriptor.value as object,
    );
    return descriptor;
  };
}
