// The admin's operations pages: dead letters (retry), content flags (clear)
// and the audit log of staff writes.
import { call, get, type Data } from '../api';
import { t, when } from '../i18n';
import { Empty, ErrorBanner, Section, useAction, useLoad, usePages } from '../ui';

export function DeadLettersPage() {
  const queues = useLoad(() => get('/api/v1/admin/queues'));
  return (
    <>
      <ErrorBanner error={queues.error} />
      {queues.data?.map((q) => (
        <QueueDeadLetters name={q.name} />
      ))}
    </>
  );
}

function QueueDeadLetters({ name }: { name: string }) {
  const { data, error, reload } = useLoad(
    () => get('/api/v1/admin/queues/{queue}/dead-letters', { params: { queue: name } }),
    [name],
  );
  const action = useAction();
  return (
    <Section title={`${t('queue')} ${name}`}>
      <ErrorBanner error={error ?? action.error} />
      <Empty when={data?.items.length === 0} />
      <table>
        <tbody>
          {data?.items.map((d) => (
            <tr data-job={d.jobId}>
              <td>{d.jobId}</td>
              <td>{d.event.type}</td>
              <td>{d.attempts}</td>
              <td>{d.failedReason}</td>
              <td>
                <button
                  type="button"
                  class="retry"
                  disabled={action.busy}
                  onClick={() =>
                    void action.run(
                      () =>
                        call('post', '/api/v1/admin/queues/{queue}/dead-letters/{jobId}/retry', {
                          params: { queue: name, jobId: d.jobId },
                        }),
                      reload,
                    )
                  }
                >
                  {t('retry')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

export function ContentFlagsPage() {
  const { data, error, reload } = useLoad(() =>
    get('/api/v1/admin/content-flags', { query: { status: 'open', limit: 50 } }),
  );
  const action = useAction();
  return (
    <Section title={t('contentFlags')}>
      <ErrorBanner error={error ?? action.error} />
      <Empty when={data?.items.length === 0} />
      <table>
        <tbody>
          {data?.items.map((f) => (
            <tr data-flag={f.id}>
              <td>{f.kind}</td>
              <td>#{f.userId}</td>
              <td>{f.content}</td>
              <td>{f.reason}</td>
              <td>{when(f.createdAt)}</td>
              <td>
                <button
                  type="button"
                  class="clear"
                  disabled={action.busy}
                  onClick={() =>
                    void action.run(
                      () =>
                        call('post', '/api/v1/admin/content-flags/{id}/clear', {
                          params: { id: f.id },
                        }),
                      reload,
                    )
                  }
                >
                  {t('clear')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

type AuditEntry = Data<'/api/v1/admin/audit'>['items'][number];

export function AuditPage() {
  const { rows, cursor, error, more } = usePages<AuditEntry>((after) =>
    get('/api/v1/admin/audit', { query: { limit: 50, ...(after ? { cursor: after } : {}) } }),
  );
  return (
    <Section title={t('audit')}>
      <ErrorBanner error={error} />
      <table>
        <thead>
          <tr>
            <th>{t('at')}</th>
            <th>{t('actor')}</th>
            <th>{t('action')}</th>
            <th>{t('target')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((a) => (
            <tr>
              <td>{when(a.createdAt)}</td>
              <td>#{a.actorId}</td>
              <td>{a.action}</td>
              <td>{a.target}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {cursor && (
        <button type="button" onClick={more}>
          {t('loadMore')}
        </button>
      )}
    </Section>
  );
}
