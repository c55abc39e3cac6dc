// The dashboard: GET /admin/dashboard (the day's orders, the outbox's
// backlog, WeChat's shipping reminders, the live flash sales), the queues'
// backlogs for an admin, and each live sale's admission counter; all read
// again every 2 s.
import { useEffect, useState } from 'preact/hooks';
import { get, type Data } from '../api';
import { t, when, yuan } from '../i18n';
import { can, type Role } from '../roles';
import { describeError, ErrorBanner, Section } from '../ui';

type Dashboard = Data<'/api/v1/admin/dashboard'>;
type Queues = Data<'/api/v1/admin/queues'>;
const REFRESH_MS = 2000;

interface Figures {
  dashboard: Dashboard;
  /** Each live sale's remaining units in the admission counter (GET /flash-sales/:id). */
  remaining: Map<number, number>;
  queues: Queues | null;
}

async function read(role: Role): Promise<Figures> {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  const [dashboard, queues] = await Promise.all([
    get('/api/v1/admin/dashboard', { query: { from: midnight.toISOString() } }),
    can(role, 'deadLetters') ? get('/api/v1/admin/queues') : Promise.resolve(null),
  ]);
  const sales = await Promise.all(
    dashboard.flashSales.map((s) => get('/api/v1/flash-sales/{id}', { params: { id: s.id } })),
  );
  return { dashboard, queues, remaining: new Map(sales.map((s) => [s.id, s.remaining])) };
}

export function DashboardPage({ role }: { role: Role }) {
  const [figures, setFigures] = useState<Figures | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const refresh = () =>
      read(role).then(
        (f) => {
          setFigures(f);
          setError(null);
        },
        (err: unknown) => setError(describeError(err)),
      );
    void refresh();
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [role]);
  const d = figures?.dashboard;
  return (
    <>
      <ErrorBanner error={error} />
      <div class="tiles">
        <Tile
          id="today-orders"
          label={t('todayOrders')}
          value={d ? String(d.orders.placed) : '…'}
        />
        <Tile label={t('paidAmount')} value={d ? yuan(d.orders.paidCents) : '…'} />
        <Tile label={t('refunds')} value={d ? yuan(d.orders.refundedCents) : '…'} />
        <Tile
          id="open-after-sales"
          label={t('openAfterSales')}
          value={d ? String(d.afterSales.open) : '…'}
        />
        <Tile label={t('shippingReminders')} value={d ? String(d.shippingReminders) : '…'} />
        <Tile
          label={t('outboxOldest')}
          value={d ? `${d.outbox.unpublished} · ${when(d.outbox.oldestUnpublishedAt)}` : '…'}
        />
      </div>
      {d && (
        <Section title={t('liveFlashSales')}>
          <table id="live-sales">
            <thead>
              <tr>
                <th>{t('id')}</th>
                <th>{t('name')}</th>
                <th>{t('stock')}</th>
                <th>{t('admitted')}</th>
                <th>{t('persisted')}</th>
                <th>{t('remaining')}</th>
                <th>{t('endsAt')}</th>
              </tr>
            </thead>
            <tbody>
              {d.flashSales.map((s) => {
                const remaining = figures.remaining.get(s.id);
                return (
                  <tr data-sale={s.id}>
                    <td>{s.id}</td>
                    <td>{s.productName}</td>
                    <td>{s.stock}</td>
                    <td class="admitted">{remaining === undefined ? '—' : s.stock - remaining}</td>
                    <td class="persisted">{s.persisted}</td>
                    <td class="remaining">{remaining ?? '—'}</td>
                    <td>{when(s.endsAt)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Section>
      )}
      {figures?.queues && (
        <Section title={t('queue')}>
          <table>
            <thead>
              <tr>
                <th>{t('queue')}</th>
                <th>{t('waiting')}</th>
                <th>{t('active')}</th>
                <th>{t('delayed')}</th>
                <th>{t('failed')}</th>
              </tr>
            </thead>
            <tbody>
              {figures.queues.map((q) => (
                <tr>
                  <td>{q.name}</td>
                  <td>{q.counts.waiting}</td>
                  <td>{q.counts.active}</td>
                  <td>{q.counts.delayed}</td>
                  <td>{q.counts.failed}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}
    </>
  );
}

function Tile({ id, label, value }: { id?: string; label: string; value: string }) {
  return (
    <div class="tile" id={id}>
      <div class="muted">{label}</div>
      <div class="figure">{value}</div>
    </div>
  );
}
