// Runtime settings (admin): the switches and the throttle limits, and the
// trail of their changes.
import { useEffect, useState } from 'preact/hooks';
import { call, get, type Data } from '../api';
import { t, when } from '../i18n';
import { ErrorBanner, Section, useAction, useLoad, valueOf } from '../ui';

type Settings = Data<'/api/v1/admin/settings'>;
type Switch = keyof Settings['switches'];
type Bucket = keyof Settings['throttle'];

export function SettingsPage() {
  const settings = useLoad(() => get('/api/v1/admin/settings'));
  const trail = useLoad(() => get('/api/v1/admin/settings/audit', { query: { limit: 20 } }));
  const [limits, setLimits] = useState<Settings['throttle'] | null>(null);
  const action = useAction();
  useEffect(() => setLimits(settings.data?.throttle ?? null), [settings.data]);
  const reload = () => {
    settings.reload();
    trail.reload();
  };
  const s = settings.data;
  return (
    <>
      <ErrorBanner error={settings.error ?? action.error} />
      {s && (
        <Section title={t('switches')}>
          {(Object.keys(s.switches) as Switch[]).map((name) => (
            <label class="switch">
              <input
                type="checkbox"
                name={`switch-${name}`}
                checked={s.switches[name]}
                disabled={action.busy}
                onChange={(e) =>
                  void action.run(
                    () =>
                      call('put', '/api/v1/admin/settings', {
                        body: {
                          switches: { [name]: (e.currentTarget as HTMLInputElement).checked },
                        },
                      }),
                    reload,
                  )
                }
              />{' '}
              {name}
            </label>
          ))}
        </Section>
      )}
      {limits && (
        <Section title={t('limits')}>
          <form
            id="limits-form"
            class="grid"
            onSubmit={(e) => {
              e.preventDefault();
              void action.run(
                () => call('put', '/api/v1/admin/settings', { body: { throttle: limits } }),
                reload,
              );
            }}
          >
            {(Object.keys(limits) as Bucket[]).map((bucket) => (
              <label>
                {bucket}{' '}
                <input
                  type="number"
                  min="1"
                  name={`limit-${bucket}`}
                  value={limits[bucket].limit}
                  onInput={(e) =>
                    setLimits({
                      ...limits,
                      [bucket]: { ...limits[bucket], limit: Number(valueOf(e)) },
                    })
                  }
                />{' '}
                / {limits[bucket].ttl} ms
              </label>
            ))}
            <button type="submit" disabled={action.busy}>
              {t('save')}
            </button>
          </form>
        </Section>
      )}
      <Section title={t('audit')}>
        <ErrorBanner error={trail.error} />
        <table>
          <tbody>
            {trail.data?.items.map((c) => (
              <tr>
                <td>{when(c.createdAt)}</td>
                <td>#{c.actorId}</td>
                <td>v{c.version}</td>
                <td>
                  <code>{diff(c.before, c.after)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </>
  );
}

/** "switches.orders: true → false", the settings a change moved. */
function diff(before: Settings, after: Settings): string {
  const out: string[] = [];
  for (const name of Object.keys(after.switches) as Switch[]) {
    if (before.switches[name] !== after.switches[name]) {
      out.push(`switches.${name}: ${before.switches[name]} → ${after.switches[name]}`);
    }
  }
  for (const bucket of Object.keys(after.throttle) as Bucket[]) {
    const [b, a] = [before.throttle[bucket], after.throttle[bucket]];
    if (b.limit !== a.limit || b.ttl !== a.ttl) {
      out.push(`throttle.${bucket}: ${b.limit}/${b.ttl} → ${a.limit}/${a.ttl}`);
    }
  }
  return out.join('; ');
}
