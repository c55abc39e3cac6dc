import type { AdminTarget, StaffRole } from '../modules/users/index.js';

// `npm run admin -- grant <userId|openid> [role]` / `revoke <userId|openid>`:
// gives a staff role (admin when none is named) or takes it away, in the
// database the environment names (embedded file or MySQL), beside running
// servers. Staff routes read the role from the database on each request, so
// it applies at the user's next request on every replica: no restart, no new
// login.
// Kept here, not imported: a usage error answers before anything is loaded.
const ROLES: readonly StaffRole[] = ['support', 'operator', 'finance', 'admin'];
const USAGE = `usage: npm run admin -- grant <userId|openid> [${ROLES.join('|')}] | revoke <userId|openid>`;

/** `42` is a user id, anything else an openid (openids are never all digits). */
function parseTarget(value: string): AdminTarget | undefined {
  if (/^[1-9]\d{0,9}$/.test(value)) return { id: Number(value) };
  return /^[A-Za-z0-9_-]{1,64}$/.test(value) ? { openid: value } : undefined;
}

async function admin(args: string[]): Promise<number> {
  const [command, value, ...rest] = args;
  const target = value === undefined ? undefined : parseTarget(value);
  const role = command === 'grant' ? (rest.shift() ?? 'admin') : null;
  const known = role === null || (ROLES as readonly string[]).includes(role);
  if ((command !== 'grant' && command !== 'revoke') || !target || !known || rest.length > 0) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  // Loaded after the arguments are checked: a usage error answers at once.
  await import('reflect-metadata');
  const { DataSource } = await import('typeorm');
  const { loadConfig } = await import('../config/index.js');
  const { dataSourceOptions } = await import('../infra/database/index.js');
  const { entities } = await import('../entities.js');
  const { setRoleGrant } = await import('../modules/users/index.js');
  const config = loadConfig(undefined, { cli: true });
  const adminOpenIds = new Set(config.adminOpenIds);
  const dataSource = new DataSource({
    ...(await dataSourceOptions(config, entities)),
    migrationsRun: false,
  });
  await dataSource.initialize();
  try {
    const result = await dataSource.transaction((m) =>
      setRoleGrant(m, target, role as StaffRole | null, adminOpenIds, null),
    );
    if (!result) {
      process.stderr.write(`admin: no user ${value} (a user exists after their first login)\n`);
      return 1;
    }
    const who = `user ${result.userId} (openid ${result.openid})`;
    if (result.listed && result.role === 'admin' && role !== 'admin') {
      process.stdout.write(
        `admin: ${who} keeps the admin role: ADMIN_OPENIDS lists this openid; remove it there and restart the servers\n`,
      );
      return 0;
    }
    process.stdout.write(
      `admin: ${who} is now ${result.role}; staff routes see it at their next request\n`,
    );
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

await admin(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`admin failed: ${message}\n`);
    process.exit(1);
  },
);
