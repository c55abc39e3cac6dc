import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loginAs } from './helpers/auth.js';
import { useStack } from './helpers/stack.js';

const execFileAsync = promisify(execFile);
// Built by `npm test`'s pretest (nest build); `npm run admin` runs the same file.
const adminCli = new URL('../dist/src/cli/admin.js', import.meta.url).pathname;
const LISTED = 'cli-listed-admin';
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** `npm run admin -- …` against the stack's database, as an operator runs it beside the servers. */
async function admin(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [adminCli, ...args], {
      env: { PATH: process.env.PATH, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// Each CLI run is a fresh Node process loading TypeORM: seconds on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

describe('npm run admin (MariaDB, two replicas)', () => {
  const stack = useStack({ apps: 2, env: { LOG_LEVEL: 'warn', ADMIN_OPENIDS: LISTED } });
  // What an operator needs: the database, and the ADMIN_OPENIDS the servers run with.
  const cliEnv = () => ({
    NODE_ENV: 'production',
    DATABASE_URL: stack.db.url,
    ADMIN_OPENIDS: LISTED,
  });
  const flags = (i: number, token: string) =>
    stack.apps[i].http.get('/api/v1/admin/content-flags').set(bearer(token));

  it('grants by user id: the same token passes admin routes on every replica at its next request', async () => {
    const user = await loginAs(stack.app, stack.wx);
    expect((await flags(0, user.accessToken)).status).toBe(403);

    const granted = await admin(cliEnv(), 'grant', String(user.user.id));
    expect(granted).toMatchObject({ code: 0, stderr: '' });
    expect(granted.stdout).toContain(`user ${user.user.id} (openid ${user.openid}) is now admin`);
    expect((await flags(0, user.accessToken)).status).toBe(200);
    expect((await flags(1, user.accessToken)).status).toBe(200);
    // Audited with the change, by nobody: the command line has no user and no request.
    const audit = await stack.db.dataSource.query(
      "SELECT actor_id, `before`, `after`, request_id FROM audit_log WHERE target = ? AND action = 'user.role'",
      [`user:${user.user.id}`],
    );
    expect(audit).toEqual([
      {
        actor_id: null,
        before: JSON.stringify({ role: 'user', grantedRole: null }),
        after: JSON.stringify({ role: 'admin', grantedRole: 'admin' }),
        request_id: null,
      },
    ]);

    // A grant is kept through the next login (ADMIN_OPENIDS does not list this openid).
    const again = await loginAs(stack.app, stack.wx, { openid: user.openid });
    expect((await flags(1, again.accessToken)).status).toBe(200);
  });

  it('revokes by openid: refused at the next request, and after the next login', async () => {
    const user = await loginAs(stack.app, stack.wx);
    expect((await admin(cliEnv(), 'grant', user.openid)).code).toBe(0);
    expect((await flags(1, user.accessToken)).status).toBe(200);

    const revoked = await admin(cliEnv(), 'revoke', user.openid);
    expect(revoked.stdout).toContain('is now user');
    const denied = await flags(0, user.accessToken);
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe(40300);
    const again = await loginAs(stack.app, stack.wx, { openid: user.openid });
    expect((await flags(1, again.accessToken)).status).toBe(403);
  });

  it('grants a staff role: its routes open and the others stay shut, at the next request on every replica', async () => {
    const user = await loginAs(stack.app, stack.wx);
    const newProduct = (i: number) =>
      stack.apps[i].http
        .post('/api/v1/admin/products')
        .set(bearer(user.accessToken))
        .send({ name: 'Staff tea', priceCents: 100, stock: 1 });
    const granted = await admin(cliEnv(), 'grant', String(user.user.id), 'operator');
    expect(granted.stdout).toContain('is now operator');
    expect((await newProduct(1)).status).toBe(201);
    expect((await flags(0, user.accessToken)).status).toBe(403);

    expect((await admin(cliEnv(), 'grant', user.openid, 'support')).stdout).toContain(
      'is now support',
    );
    const denied = await newProduct(0);
    expect([denied.status, denied.body.code]).toEqual([403, 40300]);
  });

  it('says a listed openid stays admin, and leaves it admin', async () => {
    const listed = await loginAs(stack.app, stack.wx, { admin: true });
    const revoked = await admin(cliEnv(), 'revoke', listed.openid);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain('keeps the admin role: ADMIN_OPENIDS lists this openid');
    expect((await flags(0, listed.accessToken)).status).toBe(200);
  });

  it('refuses an unknown user and bad arguments with one line and a non-zero exit', async () => {
    const unknown = await admin(cliEnv(), 'grant', '999999');
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toBe('admin: no user 999999 (a user exists after their first login)\n');
    for (const args of [
      ['promote', '1'],
      ['grant', 'no spaces'],
      ['grant', '1', 'owner'],
      ['revoke', '1', 'admin'],
    ]) {
      const bad = await admin(cliEnv(), ...args);
      expect(bad).toMatchObject({ code: 2, stdout: '' });
      expect(bad.stderr).toBe(
        'usage: npm run admin -- grant <userId|openid> [support|operator|finance|admin] | revoke <userId|openid>\n',
      );
    }
  });
});
