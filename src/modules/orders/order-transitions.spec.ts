import { ORDER_STATUSES, type OrderStatus } from './order.entity.js';
import { ORDER_ACTORS } from './order-actors.js';
import { ORDER_TRANSITIONS, isAllowed } from './order-transitions.js';

describe('the order transition table', () => {
  it('lists each (from, to) once', () => {
    const pairs = ORDER_TRANSITIONS.map((t) => `${t.from ?? 'new'}→${t.to}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  it('reaches every status from placing, and every actor causes something', () => {
    const reached = new Set<OrderStatus | null>([null]);
    for (let grew = true; grew;) {
      grew = false;
      for (const t of ORDER_TRANSITIONS) {
        if (reached.has(t.from) && !reached.has(t.to)) {
          reached.add(t.to);
          grew = true;
        }
      }
    }
    expect([...reached].filter((s) => s !== null).sort()).toEqual([...ORDER_STATUSES].sort());
    const used = new Set(ORDER_TRANSITIONS.flatMap((t) => t.actors));
    expect([...used].sort()).toEqual([...ORDER_ACTORS].sort());
  });

  it('allows a change only to the actors of its row', () => {
    expect(isAllowed('pending', 'paid', 'payment')).toBe(true);
    expect(isAllowed('pending', 'paid', 'user')).toBe(false);
    expect(isAllowed('paid', 'pending', 'payment')).toBe(false);
    expect(isAllowed(null, 'pending', 'flash_sale')).toBe(true);
    expect(isAllowed(null, 'paid', 'payment')).toBe(false);
    // Terminal: nothing leaves refunded or cancelled.
    for (const from of ['refunded', 'cancelled'] as const) {
      expect(ORDER_TRANSITIONS.filter((t) => t.from === from)).toEqual([]);
    }
    // A completed order leaves only for an after-sales refund, by staff.
    expect(ORDER_TRANSITIONS.filter((t) => t.from === 'completed')).toEqual([
      { from: 'completed', to: 'refunding', actors: ['staff'] },
    ]);
  });
});
