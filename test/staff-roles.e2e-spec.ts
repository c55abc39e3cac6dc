import { loginAs, type LoggedIn } from './helpers/auth.js';
import { useStack } from './helpers/stack.js';

const ADMIN = 'staff-roles-admin';
const API = '/api/v1';

describe('staff roles given through PUT /admin/users/:id/role (MariaDB, two replicas)', () => {
  const stack = useStack({ apps: 2, env: { LOG_LEVEL: 'warn', ADMIN_OPENIDS: ADMIN } });
  let root: LoggedIn;
  beforeAll(async () => {
    root = await loginAs(stack.app, stack.wx, { admin: true });
  });
  const bearer = (user: LoggedIn) => ({ Authorization: `Bearer ${user.accessToken}` });
  const setRole = (id: number, role: unknown, by: LoggedIn = root, app = 0) =>
    stack.apps[app].http.put(`${API}/admin/users/${id}/role`).set(bearer(by)).send({ role });
  const newProduct = (user: LoggedIn, app: number) =>
    stack.apps[app].http
      .post(`${API}/admin/products`)
      .set(bearer(user))
      .send({ name: 'Staff tea', priceCents: 100, stock: 1 });
  const roleInDb = async (id: number) =>
    (
      await stack.db.dataSource.query('SELECT role, granted_role FROM users WHERE id = ?', [id])
    )[0] as { role: string; granted_role: string | null };

  it('applies a grant, a change and a removal at the same token’s next request on every replica', async () => {
    const user = await loginAs(stack.app, stack.wx);
    expect((await newProduct(user, 1)).status).toBe(403);

    const granted = await setRole(user.user.id, 'operator');
    expect(granted.status).toBe(200);
    expect(granted.body.data).toMatchObject({ id: user.user.id, role: 'operator' });
    expect((await newProduct(user, 1)).status).toBe(201);
    expect((await stack.apps[1].http.get(`${API}/users/me`).set(bearer(user))).body.data.role).toBe(
      'operator',
    );

    // finance may refund but not manage products.
    expect((await setRole(user.user.id, 'finance', root, 1)).status).toBe(200);
    const refused = await newProduct(user, 0);
    expect([refused.status, refused.body.code]).toEqual([403, 40300]);

    expect((await setRole(user.user.id, 'user')).body.data.role).toBe('user');
    expect(await roleInDb(user.user.id)).toEqual({ role: 'user', granted_role: null });
    const refund = await stack.apps[1].http
      .post(`${API}/admin/orders/1/refund`)
      .set(bearer(user))
      .set('Idempotency-Key', 'staff-roles-1')
      .send({});
    expect(refund.status).toBe(403);

    // A grant outlives the next login.
    await setRole(user.user.id, 'support');
    const again = await loginAs(stack.app, stack.wx, { openid: user.openid });
    expect((await stack.app.http.get(`${API}/users/me`).set(bearer(again))).body.data.role).toBe(
      'support',
    );
  });

  it('lets only admins give roles, and refuses what it cannot do without writing', async () => {
    const user = await loginAs(stack.app, stack.wx);
    const operator = await loginAs(stack.app, stack.wx);
    await setRole(operator.user.id, 'operator');
    const byOperator = await setRole(user.user.id, 'admin', operator);
    expect([byOperator.status, byOperator.body.code]).toEqual([403, 40300]);

    for (const role of ['owner', '', null, 3]) {
      const bad = await setRole(user.user.id, role);
      expect(bad.status).toBe(400);
      expect(bad.body.data.errors).toEqual([expect.objectContaining({ field: 'role' })]);
    }
    expect((await setRole(2_000_000, 'support')).status).toBe(404);
    expect(await roleInDb(user.user.id)).toEqual({ role: 'user', granted_role: null });

    // ADMIN_OPENIDS makes admins whatever a grant says: a demotion is a 409 that changes nothing.
    const demoted = await setRole(root.user.id, 'support');
    expect([demoted.status, demoted.body.code]).toEqual([409, 40900]);
    expect(await roleInDb(root.user.id)).toEqual({ role: 'admin', granted_role: null });
    expect((await newProduct(root, 1)).status).toBe(201);
  });
});
