import { z } from 'zod';
import { apiView } from '../../common/http/index.js';

export const liveView = apiView('Liveness', z.strictObject({ status: z.literal('ok') }));

const indicators = z
  .record(z.string(), z.looseObject({ status: z.enum(['up', 'down']) }))
  .meta({ example: { database: { status: 'up' }, redis: { status: 'up' } } });

/** @nestjs/terminus's report; on 503 it is the `data` of the error envelope. */
export const readinessView = apiView(
  'Readiness',
  z.strictObject({
    status: z.enum(['ok', 'error', 'shutting_down']),
    info: indicators.optional(),
    error: indicators.optional(),
    details: indicators,
  }),
);
