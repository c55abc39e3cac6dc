import { z } from 'zod';
import { apiView, isoTime } from '../../../common/http/index.js';

export const consoleLoginTicket = apiView(
  'ConsoleLoginTicket',
  z.strictObject({
    ticket: z
      .string()
      .meta({ description: 'one-time, 128 random bits (base64url, 22 characters)' }),
    expiresAt: isoTime(),
    qrcode: z.string().meta({
      description:
        'a `data:image/png;base64,…` URL of the mini-program code whose `scene` is the ticket',
    }),
  }),
);
export type ConsoleLoginTicket = z.infer<typeof consoleLoginTicket>;

export const consoleTicketStatus = apiView(
  'ConsoleTicketStatus',
  z.strictObject({
    status: z.enum(['waiting', 'approved', 'expired']).meta({
      description:
        '`approved` is answered once, to the browser that asked for the ticket, with the session cookie',
    }),
  }),
);
export type ConsoleTicketStatus = z.infer<typeof consoleTicketStatus>;
