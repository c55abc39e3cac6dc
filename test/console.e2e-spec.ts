import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { outTradeNoOf } from '../src/modules/payments/trade-numbers.js';
import { startEmbeddedTestApp, type TestApp } from './helpers/app.js';
import { loginAs, type LoggedIn } from './helpers/auth.js';
import { buildConsole, launchChromium, listen } from './helpers/console-browser.js';
import { startFakeWechatPay, type FakeWechatPay } from './helpers/fake-wechat-pay.js';
import { useStack } from './helpers/stack.js';
import { until } from './helpers/until.js';

/**
 * The staff console (docs/console.md) in Debian's Chromium against the real
 * server on MariaDB and Redis, WeChat and WeChat Pay faked over HTTP. The
 * same run writes the screenshots docs/console.md shows.
 */

const ADMIN = 'console-ui-admin';
const LOGIN_PAGE = 'pages/console-login/index';
const NOTIFY = '/api/v1/payments/wechat/notify';
const XSS = '<img src=x onerror=alert(1)>';
const SHOTS = new URL('../docs/console/', import.meta.url).pathname;
// A browser test waits on Chromium's frames, which a loaded CI machine starves: room above e2e's 30 s.
const BROWSER_TEST_MS = 90_000;
const bearer = (user: LoggedIn) => ({ Authorization: `Bearer ${user.accessToken}` });

/** A page that records what must never happen: dialogs, CSP refusals, page errors. */
async function openPage(context: BrowserContext) {
  const page = await context.newPage();
  const incidents: string[] = [];
  page.on('dialog', (d) => {
    incidents.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (err) => incidents.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) incidents.push(`csp: ${m.text()}`);
  });
  return { page, incidents };
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });

describe(
  'the staff console in Chromium: development sign-in (embedded sandbox)',
  { timeout: BROWSER_TEST_MS },
  () => {
    let dir: string;
    let app: TestApp;
    let origin: string;
    let browser: Browser;
    beforeAll(async () => {
      dir = await buildConsole();
      app = await startEmbeddedTestApp({ LOG_LEVEL: 'warn', CONSOLE_DIR: dir });
      origin = await listen(app);
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      await app?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('signs in with the development button, in Chinese by default, English on request', async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const { page, incidents } = await openPage(context);
      await page.goto(`${origin}/console/`);
      await page.locator('img.qrcode').waitFor();
      expect(await page.locator('h2').first().textContent()).toBe('扫码登录');
      mkdirSync(SHOTS, { recursive: true });
      await shot(page, 'sign-in');
      await page.click('#language');
      expect(await page.locator('h2').first().textContent()).toBe('Sign in by scan');
      await page.click('#language');
      await page.click('#dev-sign-in');
      await page.locator('#role').waitFor({ timeout: 15_000 });
      expect(await page.textContent('#role')).toBe('admin');
      expect(await page.textContent('#me')).toBe('Console (development)');
      // English, kept across a reload.
      await page.click('#language');
      await page.locator('nav a[data-page="orders"]', { hasText: 'Orders' }).waitFor();
      await page.reload();
      await page.locator('nav a[data-page="orders"]', { hasText: 'Orders' }).waitFor();
      await page.click('#language');
      await page.locator('nav a[data-page="orders"]', { hasText: '订单' }).waitFor();
      // Signing out ends the session: the sign-in page again, and the API says 401.
      await page.click('#sign-out');
      await page.locator('img.qrcode').waitFor();
      const me = await page.evaluate(async () => (await fetch('/api/v1/users/me')).status);
      expect(me).toBe(401);
      expect(incidents).toEqual([]);
      await context.close();
    });
  },
);

describe(
  'the staff console in Chromium (MariaDB, Redis, fake WeChat and WeChat Pay)',
  { timeout: BROWSER_TEST_MS },
  () => {
    let pay: FakeWechatPay;
    let dir: string;
    beforeAll(async () => {
      pay = await startFakeWechatPay();
      dir = await buildConsole();
    });
    afterAll(async () => {
      await pay?.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const stack = useStack({
      env: () => ({ ...pay.env(), LOG_LEVEL: 'error', ADMIN_OPENIDS: ADMIN, CONSOLE_DIR: dir }),
    });

    let origin: string;
    let browser: Browser;
    let admin: LoggedIn;
    const staff = {} as Record<'support' | 'operator' | 'finance', LoggedIn>;
    const phone = `139${String(Date.now()).slice(-8)}`;
    let orderId: number;

    const api = () => stack.app.http;

    /** A paid order of `buyer`'s, shipped to an address with `phone`. */
    async function paidOrder(buyer: LoggedIn, buyerPhone: string): Promise<number> {
      const product = await api().post('/api/v1/admin/products').set(bearer(admin)).send({
        name: '凤凰单丛 Phoenix oolong',
        description: '',
        priceCents: 8800,
        stock: 10,
        delivery: 'express',
      });
      expect(product.status).toBe(201);
      const address = await api().post('/api/v1/users/me/addresses').set(bearer(buyer)).send({
        name: '王小明',
        phone: buyerPhone,
        province: '广东省',
        city: '广州市',
        district: '海珠区',
        detail: '新港西路 1 号',
      });
      expect(address.status).toBe(201);
      const order = await api()
        .post('/api/v1/orders')
        .set(bearer(buyer))
        .set('Idempotency-Key', `k-${randomBytes(8).toString('hex')}`)
        .send({
          items: [{ productId: product.body.data.id, quantity: 2 }],
          addressId: address.body.data.id,
        });
      expect(order.status).toBe(201);
      const id = order.body.data.id as number;
      expect((await api().post(`/api/v1/orders/${id}/payment`).set(bearer(buyer))).status).toBe(
        200,
      );
      pay.pay(outTradeNoOf(id));
      const n = pay.transactionNotification(outTradeNoOf(id));
      expect((await api().post(NOTIFY).set(n.headers).send(n.body)).status).toBe(204);
      return id;
    }

    /** A browser signed in as `user` by the scan flow: the test makes the mini-program's approve call. */
    async function signedIn(user: LoggedIn) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const opened = await openPage(context);
      const { page } = opened;
      const res = await page.goto(`${origin}/console/`);
      const qrcode = page.locator('img.qrcode');
      await qrcode.waitFor();
      expect(await qrcode.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
      // Not in the sandbox (WeChat credentials set): no development sign-in route.
      const ticket = (await qrcode.getAttribute('data-ticket'))!;
      const approved = await api()
        .post(`/console/login-tickets/${ticket}/approve`)
        .set(bearer(user));
      expect(approved.status).toBe(200);
      await page.locator('#role').waitFor({ timeout: 15_000 });
      return { context, res: res!, ...opened };
    }

    beforeAll(async () => {
      stack.wx.pages.add(LOGIN_PAGE);
      origin = await listen(stack.app);
      browser = await launchChromium();
      admin = await loginAs(stack.app, stack.wx, { admin: true });
      for (const role of ['support', 'operator', 'finance'] as const) {
        staff[role] = await loginAs(stack.app, stack.wx);
        const set = await api()
          .put(`/api/v1/admin/users/${staff[role].user.id}/role`)
          .set(bearer(admin))
          .send({ role });
        expect(set.status).toBe(200);
      }
      const buyer = await loginAs(stack.app, stack.wx);
      orderId = await paidOrder(buyer, phone);
      // Other orders around it, so that the search has something to leave out.
      await paidOrder(await loginAs(stack.app, stack.wx), '13700001111');
    });
    afterAll(() => browser?.close());

    it('signs in by scan, with the strict CSP and no token in the bundle or the page', async () => {
      const { context, page, res, incidents } = await signedIn(admin);
      expect(await page.textContent('#role')).toBe('admin');
      const csp = res.headers()['content-security-policy'];
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      // The session is an HttpOnly cookie: JavaScript sees no cookie, and nothing is stored.
      const visible = await page.evaluate(() => ({
        cookie: document.cookie,
        local: JSON.stringify(Object.entries(localStorage)),
        session: JSON.stringify(Object.entries(sessionStorage)),
        html: document.documentElement.outerHTML,
      }));
      expect(visible.cookie).toBe('');
      expect(visible.session).toBe('[]');
      const cookies = await context.cookies();
      const session = cookies.find((c) => c.name === 'mp_console')!;
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
      const bundle = readdirSync(join(dir, 'assets'))
        .map((f) => readFileSync(join(dir, 'assets', f), 'utf8'))
        .join('\n');
      for (const secret of [
        session.value,
        admin.accessToken,
        admin.refreshToken,
        stack.app.config.jwt.secret,
      ]) {
        for (const text of [bundle, visible.local, visible.html])
          expect(text).not.toContain(secret);
      }
      expect(bundle).not.toMatch(/eyJhbGciOi/); // no JWT of any kind
      await shot(page, 'dashboard');
      expect(incidents).toEqual([]);
      await context.close();
    });

    it("finds an order by the buyer's phone and ships it in two packages", async () => {
      const { context, page, incidents } = await signedIn(staff.operator);
      await page.click('nav a[data-page="orders"]');
      await page.locator('tr[data-order]').first().waitFor();
      expect(await page.locator('tr[data-order]').count()).toBeGreaterThanOrEqual(2);
      await page.fill('input[name="q"]', phone);
      await page.click('form.filters button[type="submit"]');
      await until(async () => (await page.locator('tr[data-order]').count()) === 1, 15_000);
      expect(await page.getAttribute('tr[data-order]', 'data-order')).toBe(String(orderId));
      // An operator may not export: no link.
      expect(await page.locator('#export-csv').count()).toBe(0);
      await shot(page, 'orders');
      await page.click(`tr[data-order="${orderId}"] a`);
      await page.locator('#ship-form').waitFor();
      expect(await page.textContent('#order-status')).toBe('paid');
      await page.fill('.package >> nth=0 >> input[name="carrier"]', 'SF');
      await page.fill('.package >> nth=0 >> input[name="trackingNo"]', 'SF1000000001');
      await page.click('#add-package');
      await page.fill('.package >> nth=1 >> input[name="carrier"]', 'ZTO');
      await page.fill('.package >> nth=1 >> input[name="trackingNo"]', 'ZT2000000002');
      await page.click('#ship');
      await page.locator('#order-status', { hasText: 'shipped' }).waitFor();
      // The page lists both packages, in the order given; both went to
      // WeChat's order-shipping management, as one split delivery.
      await until(async () => (await page.locator('#shipments li').count()) === 2, 15_000);
      expect(await page.locator('#shipments li').allTextContents()).toEqual([
        expect.stringContaining('SF SF1000000001'),
        expect.stringContaining('ZTO ZT2000000002'),
      ]);
      const transactionId = pay.transactions.get(outTradeNoOf(orderId))!.transactionId!;
      const upload = await until(
        async () =>
          stack.wx.shippingUploads.find(
            (u) => (u.order_key as { transaction_id?: string }).transaction_id === transactionId,
          ),
        10_000,
      );
      expect(upload).toMatchObject({
        delivery_mode: 2,
        shipping_list: [
          { tracking_no: 'SF1000000001', express_company: 'SF' },
          { tracking_no: 'ZT2000000002', express_company: 'ZTO' },
        ],
      });
      // No refund for an operator either.
      expect(await page.locator('#refund').count()).toBe(0);
      await shot(page, 'order');
      expect(incidents).toEqual([]);
      await context.close();
    });

    it('shows support no refund button, and the server refuses the refund forced from the page (403)', async () => {
      const { context, page, incidents } = await signedIn(staff.support);
      expect(await page.textContent('#role')).toBe('support');
      // Support's menu has no admin pages.
      expect(await page.locator('nav a[data-page="settings"]').count()).toBe(0);
      await page.goto(`${origin}/console/orders/${orderId}`);
      await page.locator('#order-status').waitFor();
      expect(await page.locator('#refund').count()).toBe(0);
      const forced = await page.evaluate(async (id) => {
        const r = await fetch(`/api/v1/admin/orders/${id}/refund`, {
          method: 'POST',
          credentials: 'same-origin',
          headers: {
            'X-Console-CSRF': '1',
            'Content-Type': 'application/json',
            'Idempotency-Key': 'forced-by-support',
          },
          body: '{}',
        });
        return { status: r.status, code: ((await r.json()) as { code: number }).code };
      }, orderId);
      expect(forced).toEqual({ status: 403, code: 40300 });
      const order = await api().get(`/api/v1/admin/orders/${orderId}`).set(bearer(admin));
      expect([order.body.data.status, order.body.data.refunds]).toEqual(['shipped', []]);
      expect(incidents).toEqual([]);
      await context.close();
    });

    it('refunds the order from its page and shows it refunded once WeChat Pay confirms', async () => {
      const { context, page, incidents } = await signedIn(admin);
      await page.goto(`${origin}/console/orders/${orderId}`);
      await page.locator('#refund-form').waitFor();
      await page.fill('#refund-form input[name="reason"]', '质量问题');
      await page.click('#refund');
      await page.locator('#order-status', { hasText: 'refunding' }).waitFor();
      const outRefundNo = await until(async () => [...pay.refunds.keys()][0], 20_000);
      pay.settleRefund(outRefundNo);
      const n = pay.refundNotification(outRefundNo);
      expect((await api().post(NOTIFY).set(n.headers).send(n.body)).status).toBe(204);
      await page.reload();
      await page.locator('#order-status', { hasText: 'refunded' }).waitFor();
      expect(await page.textContent('#order-refunded')).toBe('¥176.00');
      expect(await page.locator('.refund-row').allTextContents()).toEqual([
        expect.stringContaining('质量问题'),
      ]);
      expect(incidents).toEqual([]);
      await context.close();
    });

    /** The buyer's after-sales request of `type` on order `id`, through the API. */
    async function askAfterSales(buyer: LoggedIn, id: number, type: string, reason: string) {
      const asked = await api()
        .post(`/api/v1/orders/${id}/after-sales`)
        .set(bearer(buyer))
        .set('Idempotency-Key', `as-${randomBytes(6).toString('hex')}`)
        .send({ type, reason });
      expect(asked.status, JSON.stringify(asked.body)).toBe(201);
      return asked.body.data.id as number;
    }

    const orderDetail = async (id: number) =>
      (await api().get(`/api/v1/admin/orders/${id}`).set(bearer(admin))).body.data as {
        status: string;
        refundedCents: number;
        refunds: { outRefundNo: string }[];
        afterSales: { id: number; status: string; rejectReason: string | null }[];
      };

    /**
     * Fake WeChat Pay settles the refund order `id`'s request started and
     * notifies; the order and the request end refunded (the request through
     * the refund-settled consumer, after the outbox's relay).
     */
    async function settleRefundOf(id: number) {
      const outRefundNo = await until(
        async () => (await orderDetail(id)).refunds[0]?.outRefundNo,
        20_000,
      );
      await until(async () => pay.refunds.get(outRefundNo), 20_000);
      pay.settleRefund(outRefundNo);
      const n = pay.refundNotification(outRefundNo);
      expect((await api().post(NOTIFY).set(n.headers).send(n.body)).status).toBe(204);
      await until(async () => {
        const d = await orderDetail(id);
        return d.status === 'refunded' && d.afterSales[0]?.status === 'refunded';
      }, 15_000);
    }

    it('approves an after-sales refund from the queue; the order ends refunded once WeChat Pay confirms', async () => {
      const buyer = await loginAs(stack.app, stack.wx);
      const id = await paidOrder(buyer, `137${String(Date.now()).slice(-8)}`);
      const requestId = await askAfterSales(buyer, id, 'refund', '茶叶受潮');
      // Support decides after-sales requests (but may not refund an order directly).
      const { context, page, incidents } = await signedIn(staff.support);
      await page.click('nav a[data-page="after-sales"]');
      const row = page.locator(`tr[data-after-sales="${requestId}"]`);
      await row.waitFor();
      expect(await row.getAttribute('data-status')).toBe('requested');
      expect(await row.textContent()).toContain('茶叶受潮');
      await shot(page, 'after-sales');
      await row.locator('button.approve').click();
      await page.locator(`tr[data-after-sales="${requestId}"][data-status="refunding"]`).waitFor();
      expect((await orderDetail(id)).status).toBe('refunding');
      // The whole order (the request's default amount).
      await settleRefundOf(id);
      await page.goto(`${origin}/console/orders/${id}`);
      await page.locator('#order-status', { hasText: 'refunded' }).waitFor();
      expect(await page.textContent('#order-refunded')).toBe('¥176.00');
      expect(await page.locator('#order-after-sales li').allTextContents()).toEqual([
        expect.stringContaining('refunded'),
      ]);
      expect(incidents).toEqual([]);
      await context.close();
    });

    it('rejects an after-sales request with a reason from the queue; no money moves', async () => {
      const buyer = await loginAs(stack.app, stack.wx);
      const id = await paidOrder(buyer, `136${String(Date.now()).slice(-8)}`);
      const requestId = await askAfterSales(buyer, id, 'refund', '买多了');
      const { context, page, incidents } = await signedIn(staff.support);
      await page.click('nav a[data-page="after-sales"]');
      const row = page.locator(`tr[data-after-sales="${requestId}"]`);
      await row.waitFor();
      // No reason, no rejection: the button waits for one.
      expect(await row.locator('button.reject').isDisabled()).toBe(true);
      await row.locator('input[name="rejectReason"]').fill('已超过七天无理由退货期');
      await row.locator('button.reject').click();
      // Rejected is closed: it leaves the queue of open requests…
      await row.waitFor({ state: 'detached' });
      // …and shows under its status, with the reason.
      await page.selectOption('select[name="status"]', 'rejected');
      const rejected = page.locator(`tr[data-after-sales="${requestId}"][data-status="rejected"]`);
      await rejected.waitFor();
      expect(await rejected.textContent()).toContain('已超过七天无理由退货期');
      const detail = await orderDetail(id);
      expect([detail.status, detail.refundedCents, detail.refunds]).toEqual(['paid', 0, []]);
      expect(detail.afterSales).toEqual([
        expect.objectContaining({
          id: requestId,
          status: 'rejected',
          rejectReason: '已超过七天无理由退货期',
        }),
      ]);
      expect(incidents).toEqual([]);
      await context.close();
    });

    it('return and refund: support approves, the buyer sends the goods back, an operator receives them; the order ends refunded', async () => {
      const buyer = await loginAs(stack.app, stack.wx);
      const id = await paidOrder(buyer, `135${String(Date.now()).slice(-8)}`);
      const shipped = await api()
        .post(`/api/v1/admin/orders/${id}/ship`)
        .set(bearer(admin))
        .send({ carrier: 'SF', trackingNo: 'SF3000000003' });
      expect(shipped.status).toBe(200);
      const requestId = await askAfterSales(buyer, id, 'return_refund', '包装破损');
      const row = (page: Page, status: string) =>
        page.locator(`tr[data-after-sales="${requestId}"][data-status="${status}"]`);

      const support = await signedIn(staff.support);
      await support.page.click('nav a[data-page="after-sales"]');
      await row(support.page, 'requested').locator('button.approve').click();
      // A return is approved first: no refund until the goods are back.
      await row(support.page, 'approved').waitFor();
      expect(await row(support.page, 'approved').locator('button.receive').count()).toBe(0);
      expect(support.incidents).toEqual([]);
      await support.context.close();
      expect((await orderDetail(id)).refunds).toEqual([]);

      const sent = await api()
        .post(`/api/v1/after-sales/${requestId}/return-shipment`)
        .set(bearer(buyer))
        .send({ carrier: 'YTO', trackingNo: 'YT4000000004' });
      expect(sent.status, JSON.stringify(sent.body)).toBe(200);

      const operator = await signedIn(staff.operator);
      await operator.page.click('nav a[data-page="after-sales"]');
      const returning = row(operator.page, 'returning');
      await returning.waitFor();
      expect(await returning.textContent()).toContain('YTO YT4000000004');
      // An operator receives returns but does not decide requests.
      expect(await returning.locator('button.approve').count()).toBe(0);
      await returning.locator('button.receive').click();
      await row(operator.page, 'refunding').waitFor();
      await settleRefundOf(id);
      await operator.page.goto(`${origin}/console/orders/${id}`);
      await operator.page.locator('#order-status', { hasText: 'refunded' }).waitFor();
      expect(await operator.page.textContent('#order-refunded')).toBe('¥176.00');
      expect(operator.incidents).toEqual([]);
      await operator.context.close();
    });

    it('downloads the CSV export of the searched orders for finance: UTF-8 BOM, the order with both packages', async () => {
      const { context, page, incidents } = await signedIn(staff.finance);
      await page.click('nav a[data-page="orders"]');
      await page.locator('tr[data-order]').first().waitFor();
      await page.fill('input[name="q"]', phone);
      await page.click('form.filters button[type="submit"]');
      await until(async () => (await page.locator('tr[data-order]').count()) === 1, 15_000);
      // The link carries the search; the browser downloads what it names.
      expect(await page.getAttribute('#export-csv', 'href')).toContain(`q=${phone}`);
      // Playwright's 30 s default was once not enough on a CI machine busy with benchmarks.
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: 60_000 }),
        page.click('#export-csv'),
      ]);
      expect(download.suggestedFilename()).toMatch(/^orders-\d{4}-\d{2}-\d{2}\.csv$/);
      const bytes = readFileSync((await download.path())!);
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const [header, ...lines] = bytes
        .toString('utf8')
        .slice(1)
        .split('\r\n')
        .filter((l) => l !== '')
        .map((l) => l.split(','));
      expect(header[0]).toBe('order_id');
      // One line for the order's one product line, and no other order.
      expect(lines.map((l) => l[0])).toEqual([String(orderId)]);
      const cell = (name: string) => lines[0][header.indexOf(name)];
      expect([cell('phone'), cell('carrier'), cell('tracking_no')]).toEqual([
        phone,
        'SF; ZTO',
        'SF1000000001; ZT2000000002',
      ]);
      expect(incidents).toEqual([]);
      await context.close();
    });

    it('retries a dead letter from its page; the shipping upload then reaches WeChat', async () => {
      const queue = 'payments.shipping-upload';
      const buyer = await loginAs(stack.app, stack.wx);
      const id = await paidOrder(buyer, `134${String(Date.now()).slice(-8)}`);
      const transactionId = pay.transactions.get(outTradeNoOf(id))!.transactionId!;
      const uploaded = () =>
        stack.wx.shippingUploads.filter(
          (u) => (u.order_key as { transaction_id?: string }).transaction_id === transactionId,
        );
      // WeChat knows no such payment (10060001): the upload is kept as a dead letter at once.
      stack.wx.shippingErrcode = 10060001;
      let jobId: string;
      try {
        const shipped = await api()
          .post(`/api/v1/admin/orders/${id}/ship`)
          .set(bearer(admin))
          .send({ carrier: 'SF', trackingNo: 'SF5000000005' });
        expect(shipped.status).toBe(200);
        jobId = await until(async () => {
          const letters = await api()
            .get(`/api/v1/admin/queues/${queue}/dead-letters`)
            .set(bearer(admin));
          const items = letters.body.data.items as {
            jobId: string;
            event: { aggregateId: string };
          }[];
          return items.find((l) => l.event.aggregateId === String(id))?.jobId;
        }, 15_000);
      } finally {
        stack.wx.shippingErrcode = undefined;
      }
      expect(uploaded()).toEqual([]);
      const { context, page, incidents } = await signedIn(admin);
      await page.click('nav a[data-page="dead-letters"]');
      const letter = page.locator('section', { hasText: queue }).locator(`tr[data-job="${jobId}"]`);
      await letter.waitFor();
      await letter.locator('button.retry').click();
      await letter.waitFor({ state: 'detached' });
      await until(async () => uploaded().length === 1, 15_000);
      expect(uploaded()[0]).toMatchObject({
        shipping_list: [{ tracking_no: 'SF5000000005', express_company: 'SF' }],
      });
      const audit = await api().get('/api/v1/admin/audit').set(bearer(admin));
      expect(audit.body.data.items[0]).toMatchObject({
        action: 'dead_letter.retry',
        target: `job:${queue}/${jobId}`,
      });
      expect(incidents).toEqual([]);
      await context.close();
    });

    it('clears a content flag from its page', async () => {
      const member = await loginAs(stack.app, stack.wx);
      // WeChat's content check answers "review" for this word: the nickname is kept and flagged.
      stack.wx.reviewWords.add('待复核');
      try {
        const renamed = await api()
          .patch('/api/v1/users/me')
          .set(bearer(member))
          .send({ nickname: '待复核 茶友' });
        expect(renamed.status).toBe(200);
      } finally {
        stack.wx.reviewWords.delete('待复核');
      }
      const open = async () =>
        (await api().get('/api/v1/admin/content-flags?status=open&limit=50').set(bearer(admin)))
          .body.data.items as { id: number; userId: number }[];
      const flagId = (await open()).find((f) => f.userId === member.user.id)!.id;
      const { context, page, incidents } = await signedIn(admin);
      await page.click('nav a[data-page="content-flags"]');
      const flag = page.locator(`tr[data-flag="${flagId}"]`);
      await flag.waitFor();
      expect(await flag.textContent()).toContain('待复核 茶友');
      await flag.locator('button.clear').click();
      await flag.waitFor({ state: 'detached' });
      expect((await open()).map((f) => f.id)).not.toContain(flagId);
      const audit = await api().get('/api/v1/admin/audit').set(bearer(admin));
      expect(audit.body.data.items[0]).toMatchObject({
        action: 'content_flag.clear',
        target: `content_flag:${flagId}`,
      });
      expect(incidents).toEqual([]);
      await context.close();
    });

    it('switches orders off in the runtime settings; the refusal (503/50301) shows in the page', async () => {
      const { context, page, incidents } = await signedIn(admin);
      await page.click('nav a[data-page="settings"]');
      const orders = page.locator('input[name="switch-orders"]');
      await orders.waitFor();
      expect(await orders.isChecked()).toBe(true);
      await orders.click();
      await page.locator('table code', { hasText: 'switches.orders: true → false' }).waitFor();
      const buyer = await loginAs(stack.app, stack.wx);
      const refused = await api()
        .post('/api/v1/orders')
        .set(bearer(buyer))
        .set('Idempotency-Key', 'k-switched-off-0001')
        .send({ items: [{ productId: 1, quantity: 1 }] });
      expect([refused.status, refused.body.code]).toEqual([503, 50301]);
      await shot(page, 'settings');
      // A write of the console's own, refused while read-only, shows the answer.
      await page.click('input[name="switch-readOnly"]');
      await page.locator('table code', { hasText: 'switches.readOnly: false → true' }).waitFor();
      await page.click('nav a[data-page="products"]');
      await page.fill('#product-form input[name="name"]', 'refused while read-only');
      await page.click('#product-form button[type="submit"]');
      const banner = page.locator('#product-form + .error');
      await banner.waitFor();
      expect(await banner.textContent()).toContain('503/50301');
      // PUT /admin/settings is still allowed: read-only off, orders on again.
      await page.click('nav a[data-page="settings"]');
      await page.click('input[name="switch-readOnly"]');
      await page.locator('table code', { hasText: 'switches.readOnly: true → false' }).waitFor();
      await page.click('input[name="switch-orders"]');
      await page.locator('table code', { hasText: 'switches.orders: false → true' }).waitFor();
      expect(incidents).toEqual([]);
      await context.close();
    });

    it('creates a flash sale and follows it live on the dashboard: admitted, persisted, remaining', async () => {
      const product = await api().post('/api/v1/admin/products').set(bearer(admin)).send({
        name: '秒杀 Longjing',
        description: '',
        priceCents: 5000,
        stock: 50,
        delivery: 'virtual',
      });
      expect(product.status).toBe(201);
      const { context, page, incidents } = await signedIn(staff.operator);
      await page.click('nav a[data-page="flash-sales"]');
      await page.fill('#flash-sale-form input[name="productId"]', String(product.body.data.id));
      await page.fill('#flash-sale-form input[name="price"]', '9.90');
      await page.fill('#flash-sale-form input[name="stock"]', '5');
      await page.fill('#flash-sale-form input[name="perUserLimit"]', '2');
      await page.click('#flash-sale-form button[type="submit"]');
      const followed = page.locator('tr[data-sale]');
      await followed.waitFor();
      const saleId = Number(await followed.getAttribute('data-sale'));
      expect(await followed.locator('.remaining').textContent()).toBe('5');

      await page.click('nav a[data-page="dashboard"]');
      const row = page.locator(`#live-sales tr[data-sale="${saleId}"]`);
      await row.waitFor();
      expect(await row.locator('.remaining').textContent()).toBe('5');
      const buyer = await loginAs(stack.app, stack.wx);
      const bought = await api()
        .post(`/api/v1/flash-sales/${saleId}/orders`)
        .set(bearer(buyer))
        .set('Idempotency-Key', `fs-${randomBytes(6).toString('hex')}`)
        .send({ quantity: 2 });
      expect(bought.status, JSON.stringify(bought.body)).toBe(202);
      // No reload: the page reads again every 2 s (the public remaining may lag 1 s).
      await row.locator('.remaining', { hasText: /^3$/ }).waitFor({ timeout: 15_000 });
      expect(await row.locator('.admitted').textContent()).toBe('2');
      await row.locator('.persisted', { hasText: /^2$/ }).waitFor({ timeout: 20_000 });
      expect(incidents).toEqual([]);
      await context.close();
    });

    it('creates, edits and deletes a product from the products page', async () => {
      const { context, page, incidents } = await signedIn(staff.operator);
      await page.click('nav a[data-page="products"]');
      const form = page.locator('#product-form');
      await form.locator('input[name="name"]').fill('白毫银针 Silver Needle');
      await form.locator('input[name="description"]').fill('2025 spring');
      await form.locator('input[name="price"]').fill('128.50');
      await form.locator('input[name="stock"]').fill('12');
      await form.locator('select[name="delivery"]').selectOption('virtual');
      await form.locator('button[type="submit"]').click();
      const row = page.locator('tr[data-product]', { hasText: '白毫银针 Silver Needle' });
      await row.waitFor();
      const id = Number(await row.getAttribute('data-product'));
      const stored = async () =>
        (await api().get(`/api/v1/products/${id}`)).body.data as Record<string, unknown>;
      expect(await stored()).toMatchObject({
        priceCents: 12850,
        stock: 12,
        delivery: 'virtual',
        description: '2025 spring',
      });
      await row.locator('button', { hasText: '编辑' }).click();
      await form.locator('input[name="stock"]').fill('30');
      await form.locator('select[name="delivery"]').selectOption('express');
      await form.locator('button[type="submit"]').click();
      await page.locator(`tr[data-product="${id}"] td`, { hasText: /^30$/ }).waitFor();
      expect(await stored()).toMatchObject({ stock: 30, delivery: 'express', priceCents: 12850 });
      await page.locator(`tr[data-product="${id}"] button`, { hasText: '删除' }).click();
      await page.locator(`tr[data-product="${id}"]`).waitFor({ state: 'detached' });
      expect((await api().get(`/api/v1/products/${id}`)).status).toBe(404);
      expect(incidents).toEqual([]);
      await context.close();
    });

    it("lets the admin change a user's role from the users page; the new role applies at once", async () => {
      const member = await loginAs(stack.app, stack.wx);
      const { context, page, incidents } = await signedIn(admin);
      await page.click('nav a[data-page="users"]');
      await page.fill('form.filters input[name="q"]', String(member.user.id));
      await page.click('form.filters button[type="submit"]');
      const select = page.locator(`tr[data-user="${member.user.id}"] select[name="role"]`);
      await select.waitFor();
      expect(await select.inputValue()).toBe('user');
      await select.selectOption('finance');
      await until(
        async () =>
          (await api().get('/api/v1/users/me').set(bearer(member))).body.data.role === 'finance',
        15_000,
      );
      const audit = await api().get('/api/v1/admin/audit').set(bearer(admin));
      expect(audit.body.data.items[0]).toMatchObject({
        action: 'user.role',
        target: `user:${member.user.id}`,
      });
      expect(incidents).toEqual([]);
      await context.close();
    });

    it('shows a product named like markup as those characters, running nothing', async () => {
      const created = await api()
        .post('/api/v1/admin/products')
        .set(bearer(admin))
        .send({ name: XSS, description: XSS, priceCents: 100, stock: 1, delivery: 'virtual' });
      expect(created.status).toBe(201);
      const { context, page, incidents } = await signedIn(admin);
      await page.click('nav a[data-page="products"]');
      const cell = page.locator(`tr[data-product="${created.body.data.id}"] .product-name`);
      await cell.waitFor();
      expect(await cell.textContent()).toBe(XSS);
      expect(await page.locator('img[src="x"]').count()).toBe(0);
      await shot(page, 'products');
      expect(incidents).toEqual([]);
      await context.close();
    });
  },
);
