import { loginAs, type LoggedIn } from './helpers/auth.js';
import { useStack } from './helpers/stack.js';

const ADMIN = 'back-office-admin';
const API = '/api/v1';

type Row = Record<string, unknown>;

interface Seed {
  userId: number;
  status?: string;
  at: string;
  name?: string | null;
  phone?: string;
  detail?: string;
  lines?: { productId: number; name: string; price: number; quantity: number }[];
  /** Its packages' tracking numbers, package 0 first (carriers SF, ZTO, SF, …). */
  tracking?: string | string[];
}

describe('the back office reads: orders, their export, users (MariaDB)', () => {
  const stack = useStack({ env: { LOG_LEVEL: 'error', ADMIN_OPENIDS: ADMIN } });
  const staff = {} as Record<'admin' | 'support' | 'operator' | 'finance' | 'user', LoggedIn>;
  const as = (user: LoggedIn) => ({ Authorization: `Bearer ${user.accessToken}` });
  const get = (path: string, user: LoggedIn = staff.support) =>
    stack.app.http.get(`${API}${path}`).set(as(user));
  const q = (sql: string, params: unknown[] = []) =>
    stack.db.dataSource.query(sql, params) as Promise<Row[]>;
  let seq = 0;

  /** An order written straight into the tables: the back office only reads them. */
  async function seed(s: Seed): Promise<number> {
    seq++;
    const lines = s.lines ?? [{ productId: 1, name: 'Tea', price: 100, quantity: 1 }];
    const total = lines.reduce((sum, l) => sum + l.price * l.quantity, 0);
    const at = new Date(s.at);
    const result = (await stack.db.dataSource.query(
      `INSERT INTO orders (user_id, status, total_cents, idempotency_key, request_hash, pay_before,
         refunded_cents, address_name, address_phone, address_province, address_city,
         address_district, address_detail, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, 'Guangdong', 'Guangzhou', 'Haizhu', ?, ?, ?)`,
      [
        s.userId,
        s.status ?? 'paid',
        total,
        `seed-${seq}`,
        'h'.repeat(64),
        at,
        s.name === undefined ? 'Zhang San' : s.name,
        s.phone ?? '13800138000',
        s.detail ?? 'No. 1 Xingang Road',
        at,
        at,
      ],
    )) as { insertId: number };
    const id = result.insertId;
    for (const l of lines) {
      await q(
        'INSERT INTO order_items (order_id, product_id, product_name, unit_price_cents, quantity) VALUES (?, ?, ?, ?, ?)',
        [id, l.productId, l.name, l.price, l.quantity],
      );
    }
    const packages = s.tracking === undefined ? [] : [s.tracking].flat();
    for (const [i, trackingNo] of packages.entries()) {
      await q(
        'INSERT INTO order_shipments (order_id, package_index, carrier, tracking_no, shipped_at) VALUES (?, ?, ?, ?, ?)',
        [id, i, i % 2 ? 'ZTO' : 'SF', trackingNo, at],
      );
    }
    return id;
  }

  const ids = (res: { body: { data: { items: { id: number }[] } } }) =>
    res.body.data.items.map((o) => o.id);

  let buyer: LoggedIn;
  let other: LoggedIn;
  const seeded: Record<string, number> = {};
  beforeAll(async () => {
    staff.admin = await loginAs(stack.app, stack.wx, { admin: true });
    for (const role of ['support', 'operator', 'finance'] as const) {
      staff[role] = await loginAs(stack.app, stack.wx);
      const set = await stack.app.http
        .put(`${API}/admin/users/${staff[role].user.id}/role`)
        .set(as(staff.admin))
        .send({ role });
      expect(set.status).toBe(200);
    }
    staff.user = await loginAs(stack.app, stack.wx);
    buyer = await loginAs(stack.app, stack.wx);
    other = await loginAs(stack.app, stack.wx);
    seeded.oldPaid = await seed({ userId: buyer.user.id, at: '2026-01-05T10:00:00Z' });
    seeded.janPending = await seed({
      userId: buyer.user.id,
      status: 'pending',
      at: '2026-01-20T10:00:00Z',
      name: '李雷',
      phone: '13911112222',
    });
    seeded.febPaid = await seed({
      userId: other.user.id,
      at: '2026-02-03T10:00:00Z',
      phone: '13700000001',
      tracking: ['SF1234567890', 'ZT1234567890'],
    });
    seeded.febShipped = await seed({
      userId: other.user.id,
      status: 'shipped',
      at: '2026-02-10T10:00:00Z',
      name: null,
      phone: '13600000000',
    });
  });

  it('lists every order newest first, to every staff role and to no one else', async () => {
    for (const role of ['support', 'operator', 'finance', 'admin'] as const) {
      const res = await get('/admin/orders', staff[role]);
      expect(res.status).toBe(200);
      expect(ids(res)).toEqual([
        seeded.febShipped,
        seeded.febPaid,
        seeded.janPending,
        seeded.oldPaid,
      ]);
    }
    const refused = await get('/admin/orders', staff.user);
    expect([refused.status, refused.body.code]).toEqual([403, 40300]);
    expect((await stack.app.http.get(`${API}/admin/orders`)).status).toBe(401);
    const first = (await get('/admin/orders')).body.data.items.find(
      (o: Row) => o.id === seeded.janPending,
    );
    expect(first).toMatchObject({
      userId: buyer.user.id,
      status: 'pending',
      totalCents: 100,
      createdAt: '2026-01-20T10:00:00.000Z',
      address: expect.objectContaining({ name: '李雷', phone: '13911112222' }),
    });
    const noAddress = (await get('/admin/orders')).body.data.items[0];
    expect(noAddress).toMatchObject({ id: seeded.febShipped, address: null });
  });

  it('filters by status, user and dates, alone and together', async () => {
    expect(ids(await get('/admin/orders?status=paid'))).toEqual([seeded.febPaid, seeded.oldPaid]);
    expect(ids(await get(`/admin/orders?userId=${buyer.user.id}`))).toEqual([
      seeded.janPending,
      seeded.oldPaid,
    ]);
    expect(ids(await get('/admin/orders?from=2026-01-10&to=2026-02-05'))).toEqual([
      seeded.febPaid,
      seeded.janPending,
    ]);
    // `to` is exclusive, `from` inclusive, to the millisecond.
    expect(ids(await get('/admin/orders?from=2026-02-10T10:00:00Z'))).toEqual([seeded.febShipped]);
    expect(ids(await get('/admin/orders?to=2026-02-10T10:00:00.000Z&status=shipped'))).toEqual([]);
    expect(
      ids(await get(`/admin/orders?status=paid&from=2026-02-01&userId=${other.user.id}`)),
    ).toEqual([seeded.febPaid]);
    expect(ids(await get('/admin/orders?status=refunded'))).toEqual([]);
  });

  it('searches by order id, phone, consignee name and tracking number, exactly', async () => {
    expect(ids(await get(`/admin/orders?q=${seeded.oldPaid}`))).toEqual([seeded.oldPaid]);
    expect(ids(await get('/admin/orders?q=13911112222'))).toEqual([seeded.janPending]);
    expect(ids(await get(`/admin/orders?q=${encodeURIComponent('李雷')}`))).toEqual([
      seeded.janPending,
    ]);
    // Any of an order's packages finds it, once.
    expect(ids(await get('/admin/orders?q=SF1234567890'))).toEqual([seeded.febPaid]);
    expect(ids(await get('/admin/orders?q=ZT1234567890'))).toEqual([seeded.febPaid]);
    expect(ids(await get('/admin/orders?q=13800138000'))).toEqual([seeded.oldPaid]);
    expect(ids(await get('/admin/orders?q=SF123'))).toEqual([]);
    // Search and filters combine.
    expect(ids(await get('/admin/orders?q=13911112222&status=paid'))).toEqual([]);
  });

  it('refuses bad filters with a 400 naming the field', async () => {
    for (const [query, field] of [
      ['status=lost', 'status'],
      ['from=yesterday', 'from'],
      ['to=2026-13-45', 'to'],
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['userId=abc', 'userId'],
      ['cursor=not-a-cursor', 'cursor'],
      [`q=${'x'.repeat(65)}`, 'q'],
    ]) {
      const res = await get(`/admin/orders?${query}`);
      expect([res.status, res.body.code], query).toEqual([400, 40000]);
      expect(res.body.data.errors, query).toEqual([expect.objectContaining({ field })]);
    }
  });

  it('pages by keyset without duplicates or gaps while orders are placed', async () => {
    const userId = (await loginAs(stack.app, stack.wx)).user.id;
    const mine: number[] = [];
    for (let i = 0; i < 7; i++) {
      // Two orders in the same millisecond: the id breaks the tie.
      mine.push(await seed({ userId, at: `2026-03-0${1 + Math.floor(i / 2)}T08:00:00Z` }));
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(
        `/admin/orders?userId=${userId}&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      seen.push(...ids(res));
      cursor = res.body.data.nextCursor;
      // Orders placed between pages are newer: they never show up in later pages.
      await seed({ userId, at: `2026-04-0${1 + pages}T08:00:00Z` });
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...mine].sort((a, b) => b - a));
  });

  it('shows one order with its lines, address, payments, refunds, shipments and timeline', async () => {
    const id = await seed({
      userId: buyer.user.id,
      status: 'refunding',
      at: '2026-05-01T08:00:00Z',
      lines: [
        { productId: 3, name: '绿茶', price: 250, quantity: 2 },
        { productId: 4, name: 'Cup', price: 900, quantity: 1 },
      ],
      tracking: ['YT0001', 'YT0002', 'YT0003'],
    });
    await q(
      `INSERT INTO order_payments (order_id, out_trade_no, transaction_id, paid_cents, paid_at, created_at, updated_at)
       VALUES (?, ?, 'tx-1', 1400, ?, ?, ?)`,
      [id, `otn${id}`, new Date('2026-05-01T08:01:00Z'), new Date(), new Date()],
    );
    await q(
      `INSERT INTO order_refunds (order_id, out_refund_no, idempotency_key, request_hash, amount_cents,
         reason, state, resume_status, created_at, updated_at)
       VALUES (?, ?, 'k-1', ?, 500, 'broken cup', 'processing', 'paid', ?, ?)`,
      [id, `orn${id}`, 'h'.repeat(64), new Date(), new Date()],
    );
    const timeline: [string | null, string, string, number | null, string][] = [
      [null, 'pending', 'user', buyer.user.id, '2026-05-01T08:00:00.000Z'],
      ['pending', 'paid', 'payment', null, '2026-05-01T08:01:00.000Z'],
      ['paid', 'refunding', 'staff', staff.finance.user.id, '2026-05-02T09:00:00.000Z'],
    ];
    for (const [from, to, actor, actorId, at] of timeline) {
      await q(
        'INSERT INTO order_events (order_id, from_status, to_status, actor, actor_id, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [id, from, to, actor, actorId, new Date(at)],
      );
    }

    const res = await get(`/admin/orders/${id}`, staff.operator);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      id,
      userId: buyer.user.id,
      status: 'refunding',
      totalCents: 1400,
      address: expect.objectContaining({ name: 'Zhang San', city: 'Guangzhou' }),
      items: [
        { productId: 3, name: '绿茶', unitPriceCents: 250, quantity: 2, subtotalCents: 500 },
        { productId: 4, name: 'Cup', unitPriceCents: 900, quantity: 1, subtotalCents: 900 },
      ],
      payments: [{ outTradeNo: `otn${id}`, transactionId: 'tx-1', paidCents: 1400 }],
      refunds: [{ amountCents: 500, reason: 'broken cup', state: 'processing' }],
      // Every package, in package order.
      shipments: [
        { carrier: 'SF', trackingNo: 'YT0001' },
        { carrier: 'ZTO', trackingNo: 'YT0002' },
        { carrier: 'SF', trackingNo: 'YT0003' },
      ],
      afterSales: [],
      timeline: timeline.map(([from, to, actor, actorId, at]) => ({
        from,
        to,
        actor,
        actorId,
        at,
      })),
    });

    expect((await get('/admin/orders/999999')).status).toBe(404);
    expect((await get('/admin/orders/abc')).status).toBe(400);
    expect((await get(`/admin/orders/${id}`, staff.user)).status).toBe(403);
  });

  it('records the real transitions of an order placed and cancelled through the API', async () => {
    const product = await stack.app.http
      .post(`${API}/admin/products`)
      .set(as(staff.admin))
      .send({ name: 'Timeline tea', priceCents: 300, stock: 5 });
    expect(product.status).toBe(201);
    const placed = await stack.app.http
      .post(`${API}/orders`)
      .set(as(buyer))
      .set('Idempotency-Key', 'back-office-timeline')
      .send({ items: [{ productId: product.body.data.id, quantity: 1 }] });
    expect(placed.status).toBe(201);
    const orderId = placed.body.data.id as number;
    expect(
      (await stack.app.http.post(`${API}/orders/${orderId}/cancel`).set(as(buyer))).status,
    ).toBe(200);
    const detail = (await get(`/admin/orders/${orderId}`)).body.data;
    expect(detail.status).toBe('cancelled');
    expect(detail.timeline).toEqual([
      expect.objectContaining({ from: null, to: 'pending', actor: 'user', actorId: buyer.user.id }),
      expect.objectContaining({ from: 'pending', to: 'cancelled', actor: 'user' }),
    ]);
  });
  describe('GET /admin/orders/export', () => {
    const csv = (path: string, user: LoggedIn = staff.finance) =>
      stack.app.http
        .get(`${API}/admin/orders/export${path}`)
        .set(as(user))
        .buffer(true)
        .parse((res, done) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done(null, Buffer.concat(chunks)));
        });

    /** RFC 4180 lines to cells (quoted cells may hold commas, quotes and line breaks). */
    function parseCsv(text: string): string[][] {
      const rows: string[][] = [];
      let row: string[] = [];
      let cell = '';
      let quoted = false;
      for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (quoted && c === '"' && text[i + 1] === '"') {
          cell += '"';
          i++;
        } else if (c === '"') {
          quoted = !quoted;
        } else if (quoted) {
          cell += c;
        } else if (c === ',') {
          row.push(cell);
          cell = '';
        } else if (c === '\r' && text[i + 1] === '\n') {
          row.push(cell);
          rows.push(row);
          row = [];
          cell = '';
          i++;
        } else {
          cell += c;
        }
      }
      expect(cell, 'the file ends with CRLF').toBe('');
      return rows;
    }

    it('streams one line per order line, UTF-8 with BOM, formulas neutralised', async () => {
      const userId = (await loginAs(stack.app, stack.wx)).user.id;
      const id = await seed({
        userId,
        at: '2026-06-01T08:00:00Z',
        name: '=HYPERLINK("http://evil")',
        phone: '+8613800138000',
        detail: '上海市, "浦东" 新区\n3号楼',
        lines: [
          { productId: 5, name: '-1+1', price: 100, quantity: 3 },
          { productId: 6, name: '@SUM(A1)', price: 50, quantity: 1 },
          { productId: 7, name: '乌龙茶', price: 880, quantity: 2 },
        ],
        tracking: ['\tTAB1', 'ZT2'],
      });
      const res = await csv(`?userId=${userId}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toMatch(
        /^attachment; filename=orders-\d{4}-\d{2}-\d{2}\.csv$/,
      );
      const bytes = res.body as Buffer;
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const text = bytes.toString('utf8').slice(1);
      expect(text).toContain('"\'=HYPERLINK(""http://evil"")"');
      const [header, ...lines] = parseCsv(text);
      expect(header.slice(0, 3)).toEqual(['order_id', 'placed_at', 'status']);
      expect(lines).toHaveLength(3);
      const cell = (line: string[], name: string) => line[header.indexOf(name)];
      expect(lines.map((l) => cell(l, 'order_id'))).toEqual([String(id), String(id), String(id)]);
      expect(lines.map((l) => cell(l, 'product_name'))).toEqual(["'-1+1", "'@SUM(A1)", '乌龙茶']);
      expect(lines.map((l) => cell(l, 'subtotal_cents'))).toEqual(['300', '50', '1760']);
      expect(cell(lines[0], 'consignee')).toBe('\'=HYPERLINK("http://evil")');
      expect(cell(lines[0], 'phone')).toBe("'+8613800138000");
      expect(cell(lines[0], 'address')).toBe('上海市, "浦东" 新区\n3号楼');
      // Two packages: both, in package order, in the order's cells.
      expect(cell(lines[0], 'tracking_no')).toBe("'\tTAB1; ZT2");
      expect(cell(lines[2], 'carrier')).toBe('SF; ZTO');
      expect(cell(lines[0], 'placed_at')).toBe('2026-06-01T08:00:00.000Z');
    });

    it('takes the list filters and walks past one page of orders', async () => {
      const userId = (await loginAs(stack.app, stack.wx)).user.id;
      const mine: number[] = [];
      // More orders than one export page (500): the keyset walk must continue without loss.
      for (let i = 0; i < 520; i++) {
        mine.push(
          await seed({
            userId,
            at: new Date(Date.UTC(2026, 6, 1) + Math.floor(i / 3) * 1000).toISOString(),
            status: i % 2 ? 'paid' : 'completed',
          }),
        );
      }
      const all = parseCsv((await csv(`?userId=${userId}`)).body.toString('utf8').slice(1));
      expect(all.slice(1).map((l) => Number(l[0]))).toEqual([...mine].sort((a, b) => b - a));
      const paid = parseCsv(
        (await csv(`?userId=${userId}&status=paid`, staff.admin)).body.toString('utf8').slice(1),
      );
      expect(paid).toHaveLength(1 + 260);
      expect(paid.slice(1).every((l) => l[2] === 'paid')).toBe(true);
    });

    it('is for finance and admin only, and checks the filters before sending anything', async () => {
      for (const role of ['support', 'operator', 'user'] as const) {
        const res = await stack.app.http.get(`${API}/admin/orders/export`).set(as(staff[role]));
        expect([res.status, res.body.code], role).toEqual([403, 40300]);
      }
      const bad = await stack.app.http
        .get(`${API}/admin/orders/export?from=soon`)
        .set(as(staff.finance));
      expect([bad.status, bad.body.code]).toEqual([400, 40000]);
      expect(bad.headers['content-type']).toMatch(/^application\/json/);
    });
  });

  describe('GET /admin/users', () => {
    let phoned: LoggedIn;
    beforeAll(async () => {
      phoned = await loginAs(stack.app, stack.wx);
      await q("UPDATE users SET phone = '13800138000', nickname = 'Han_Meimei' WHERE id = ?", [
        phoned.user.id,
      ]);
    });

    it('masks phones but for the last 4 digits, except for admins', async () => {
      const bySupport = await get(`/admin/users?q=${phoned.user.id}`, staff.support);
      expect(bySupport.status).toBe(200);
      expect(bySupport.body.data.items).toEqual([
        expect.objectContaining({
          id: phoned.user.id,
          phone: '*******8000',
          nickname: 'Han_Meimei',
        }),
      ]);
      const byAdmin = await get(`/admin/users?q=${phoned.user.id}`, staff.admin);
      expect(byAdmin.body.data.items[0].phone).toBe('13800138000');
      const refused = await get('/admin/users', staff.user);
      expect([refused.status, refused.body.code]).toEqual([403, 40300]);
    });

    it('searches by id, phone and nickname prefix, wildcards taken literally', async () => {
      const found = (res: { body: { data: { items: { id: number }[] } } }) => ids(res);
      expect(found(await get('/admin/users?q=13800138000', staff.finance))).toEqual([
        phoned.user.id,
      ]);
      expect(found(await get('/admin/users?q=Han_M', staff.operator))).toEqual([phoned.user.id]);
      expect(found(await get('/admin/users?q=Han%25'))).toEqual([]);
      expect(found(await get('/admin/users?q=H_n'))).toEqual([]);
    });

    it('pages newest first without duplicates', async () => {
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const res = await get(`/admin/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        seen.push(...ids(res));
        cursor = res.body.data.nextCursor;
      } while (cursor);
      const all = (await q('SELECT id FROM users ORDER BY id DESC')).map((r) => Number(r.id));
      expect(seen).toEqual(all);
      expect((await get('/admin/users?limit=101')).status).toBe(400);
    });
  });
});
