// Users and roles: the staff search of users; an admin sets roles.
import { useState } from 'preact/hooks';
import { call, get } from '../api';
import { t, when } from '../i18n';
import { can, type Role } from '../roles';
import { ErrorBanner, Section, useAction, useLoad, valueOf } from '../ui';

const ROLES: Role[] = ['user', 'support', 'operator', 'finance', 'admin'];

export function UsersPage({ role }: { role: Role }) {
  const [draft, setDraft] = useState('');
  const [q, setQ] = useState('');
  const { data, error, reload } = useLoad(
    () => get('/api/v1/admin/users', { query: { limit: 50, ...(q ? { q } : {}) } }),
    [q],
  );
  const action = useAction();
  return (
    <Section title={t('users')}>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setQ(draft);
        }}
      >
        <input
          name="q"
          placeholder={`${t('id')} / ${t('phone')} / ${t('name')}`}
          value={draft}
          onInput={(e) => setDraft(valueOf(e))}
        />
        <button type="submit">{t('search')}</button>
      </form>
      <ErrorBanner error={error ?? action.error} />
      <table>
        <thead>
          <tr>
            <th>{t('id')}</th>
            <th>{t('name')}</th>
            <th>{t('phone')}</th>
            <th>{t('role')}</th>
            <th>{t('created')}</th>
          </tr>
        </thead>
        <tbody>
          {data?.items.map((u) => (
            <tr data-user={u.id}>
              <td>{u.id}</td>
              <td>{u.nickname}</td>
              <td>{u.phone ?? '—'}</td>
              <td>
                {can(role, 'setRoles') ? (
                  <select
                    name="role"
                    value={u.role}
                    disabled={action.busy}
                    onChange={(e) =>
                      void action.run(
                        () =>
                          call('put', '/api/v1/admin/users/{id}/role', {
                            params: { id: u.id },
                            body: { role: valueOf(e) as Role },
                          }),
                        reload,
                      )
                    }
                  >
                    {ROLES.map((r) => (
                      <option value={r}>{r}</option>
                    ))}
                  </select>
                ) : (
                  u.role
                )}
              </td>
              <td>{when(u.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}
