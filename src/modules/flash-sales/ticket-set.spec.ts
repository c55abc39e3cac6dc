import { ticketFor } from './flash-keys.js';
import { TicketSet } from './ticket-set.js';

describe('TicketSet', () => {
  const tickets = (sale: number, from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ticketFor(sale, 1 + ((from + i) % 97), `key-${from + i}`));

  it('knows exactly the tickets added, also past the size it was made for', () => {
    const set = new TicketSet(7, 1000);
    const added = tickets(7, 0, 5000);
    for (const t of added) set.add(t);
    for (const t of added.slice(0, 10)) set.add(t);
    expect(set.size).toBe(5000);
    expect(added.every((t) => set.has(t))).toBe(true);
    expect(tickets(7, 5000, 5000).some((t) => set.has(t))).toBe(false);
  });

  it('tells tickets of another sale and tickets of another shape apart', () => {
    const set = new TicketSet(7, 4);
    const mine = ticketFor(7, 1, 'k');
    set.add(mine);
    expect(set.has(ticketFor(70, 1, 'k'))).toBe(false);
    expect(set.has(`70${mine.slice(1)}`)).toBe(false);
    expect(set.has(mine.slice(0, -1))).toBe(false);
    expect(set.has(`${mine}x`)).toBe(false);
    expect(set.has(`${mine.slice(0, -1)}+`)).toBe(false);
    expect(set.has('')).toBe(false);

    // Shapes ticketFor never makes are kept as they are.
    for (const odd of ['7-short', `${mine.slice(0, -1)}é`, '8-abcdefghijklmnopqrstuv']) {
      expect(set.has(odd)).toBe(false);
      set.add(odd);
      expect(set.has(odd)).toBe(true);
    }
    expect(set.size).toBe(4);
  });
});
