import type { AdminTarget } from '../modules/users/index.js';

// `npm run admin -- grant <userId|openid>` / `revoke <userId|openid>`: gives or
// takes the admin role in the database the environment names (embedded file
// or MySQL), beside running servers. Admin routes read the role from the
// database on each request, so it applies at the user's next request on every
// replica: no restart, no new login.
const USAGE = 'usage: npm run admin -- grant|revoke <userId|openid>';

/** `42` is a user id, anything else an openid (openids are never all digits). */
function parseTarget(value: string): AdminTarget | undefined {
  if (/^[1-9]\d{0,9}$/.test(value)) return { id: Number(value) };
  return /^[A-Za-z0-9_-]{1,64}$/.test(value) ? { openid: value } : undefined;
}

async function admin(args: string[]): Promise<number> {
  const [command, value, ...rest] = args;
  const target = value === undefined ? undefined : parseTarget(value);
  if ((command !== 'grant' && command !== 'revoke') || !target || rest.length > 0) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  // Loaded after the arguments are checked: a usage error answers at once.
  await import('reflect-metadata');
  const { DataSource } = await import('typeorm');
  const { loadConfig } = await import('../config/index.js');
  const { dataSourceOptions } = await import('../infra/database/index.js');
  const { entities } = await import('../entities.js');
  const { setAdminGrant } = await import('../modules/users/index.js');
  const config = loadConfig(undefined, { cli: true });
  const adminOpenIds = new Set(config.adminOpenIds);
  const dataSource = new DataSource({
    ...(await dataSourceOptions(config, entities)),
    migrationsRun: false,
  });
  await dataSource.initialize();
  try {
    const result = await setAdminGrant(
      dataSource.manager,
      target,
      command === 'grant',
      adminOpenIds,
    );
    if (!result) {
      process.stderr.write(`admin: no user ${value} (a user exists after their first login)\n`);
      return 1;
    }
    const who = `user ${result.userId} (openid ${result.openid})`;
    if (result.role === 'admin' && command === 'revoke') {
      process.stdout.write(
        `admin: ${who} keeps the admin role: ADMIN_OPENIDS lists this openid; remove it there and restart the servers\n`,
      );
      return 0;
    }
    process.stdout.write(
      `admin: ${who} is now ${result.role}; admin routes see it at their next request\n`,
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
