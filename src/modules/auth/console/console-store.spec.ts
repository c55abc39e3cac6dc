import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { dropRedisKeys, TEST_REDIS_URL, testRedisPrefix } from '../../../../test/helpers/env.js';
import type { ConsoleGrant, ConsoleStore } from './console-store.js';
import { MemoryConsoleStore } from './memory-console.store.js';
import { RedisConsoleStore } from './redis-console.store.js';

const prefix = testRedisPrefix();
let redis: Redis;

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix, lazyConnect: true });
  await redis.connect();
});
afterAll(async () => {
  await dropRedisKeys(prefix);
  redis.disconnect();
});

const GRANT: ConsoleGrant = {
  userId: 7,
  sessionId: 'sid-7',
  role: 'support',
  grantedAt: 1_765_000_000_123,
};
let n = 0;
const ticketName = () => `ticket-${process.pid}-${n++}`;

describe.each<[string, () => ConsoleStore]>([
  ['MemoryConsoleStore', () => new MemoryConsoleStore()],
  ['RedisConsoleStore (real Redis)', () => new RedisConsoleStore(redis)],
])('%s', (_name, make) => {
  let store: ConsoleStore;
  beforeEach(() => {
    store = make();
  });

  it('approves a waiting ticket once; only its browser reads it, and that read spends it', async () => {
    const ticket = ticketName();
    await store.createTicket(ticket, 'binder', 5_000);
    expect(await store.readTicket(ticket, 'binder')).toEqual({ status: 'waiting' });
    expect(await store.approveTicket(ticket, GRANT)).toBe(true);
    expect(await store.approveTicket(ticket, { ...GRANT, userId: 8 })).toBe(false);
    expect(await store.readTicket(ticket, 'other')).toEqual({ status: 'expired' });
    expect(await store.readTicket(ticket, 'binder')).toEqual({ status: 'approved', grant: GRANT });
    expect(await store.readTicket(ticket, 'binder')).toEqual({ status: 'expired' });
    expect(await store.approveTicket(ticket, GRANT)).toBe(false);
  });

  it('lets one of many concurrent approvals win, and one of many concurrent reads sign in', async () => {
    const ticket = ticketName();
    await store.createTicket(ticket, 'b', 5_000);
    const approvals = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.approveTicket(ticket, { ...GRANT, userId: i })),
    );
    expect(approvals.filter(Boolean)).toHaveLength(1);
    const reads = await Promise.all(
      Array.from({ length: 10 }, () => store.readTicket(ticket, 'b')),
    );
    const approved = reads.filter((r) => r.status === 'approved');
    expect(approved).toHaveLength(1);
    expect(approved[0]).toMatchObject({ grant: { userId: approvals.indexOf(true) } });
  });

  it('expires a ticket, approved or not, and never approves an unknown one', async () => {
    const [waiting, approved] = [ticketName(), ticketName()];
    await store.createTicket(waiting, 'b', 100);
    await store.createTicket(approved, 'b', 100);
    expect(await store.approveTicket(approved, GRANT)).toBe(true);
    await sleep(150);
    expect(await store.readTicket(waiting, 'b')).toEqual({ status: 'expired' });
    expect(await store.readTicket(approved, 'b')).toEqual({ status: 'expired' });
    expect(await store.approveTicket(waiting, GRANT)).toBe(false);
    expect(await store.approveTicket(ticketName(), GRANT)).toBe(false);
  });

  it('keeps a grant without a grant time (ADMIN_OPENIDS) as it was', async () => {
    const id = ticketName();
    await store.createSession(id, { ...GRANT, role: 'admin', grantedAt: null }, 60);
    expect(await store.session(id)).toEqual({ ...GRANT, role: 'admin', grantedAt: null });
  });

  it('keeps a session until it ends or expires', async () => {
    const [kept, ended, expiring] = [ticketName(), ticketName(), ticketName()];
    await store.createSession(kept, GRANT, 60);
    await store.createSession(ended, GRANT, 60);
    await store.createSession(expiring, GRANT, 1);
    await store.endSession(ended);
    expect(await store.session(kept)).toEqual(GRANT);
    expect(await store.session(ended)).toBeUndefined();
    await sleep(1100);
    expect(await store.session(expiring)).toBeUndefined();
    expect(await store.session(kept)).toEqual(GRANT);
  });
});
