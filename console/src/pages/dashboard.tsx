// The dashboard: today's figures from the back office's order list, and the
// queues' backlogs for an admin. Refreshed every 2 s.
import { useEffect, useState } from 'preact/hooks';
import { get, type Data } from '../api';
import { t, yuan } from '../i18n';
import { can, type Role } from '../roles';
import { describeError, ErrorBanner, Section } from '../ui';

type Summary = Data<'/api/v1/admin/orders'>['items'][number];
type Queues = Data<'/api/v1/admin/queues'>;
const REFRESH_MS = 2000;
/** Today's orders are counted up to this many (pages of 100); beyond it the figure reads "500+". */
const COUNT_CAP = 500;

interface Today {
  orders: number;
  capped: boolean;
  paidCents: number;
  refundedCents: number;
}

async function today(): Promise<Today> {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  const rows: Summary[] = [];
  let cursor: string | null = null;
  do {
    const page: Data<'/api/v1/admin/orders'> = await get('/api/v1/admin/orders', {
      query: { from: midnight.toISOString(), limit: 100, ...(cursor ? { cursor } : {}) },
    });
    rows.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && rows.length < COUNT_CAP);
  const paid = rows.filter((o) => !['pending', 'cancelled'].includes(o.status));
  return {
    orders: rows.length,
    capped: cursor !== null,
    paidCents: paid.reduce((sum, o) => sum + o.totalCents, 0),
    refundedCents: rows.reduce((sum, o) => sum + o.refundedCents, 0),
  };
}

export function DashboardPage({ role }: { role: Role }) {
  const [figures, setFigures] = useState<Today | null>(null);
  const [queues, setQueues] = useState<Queues | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const read = () => {
      today().then(setFigures, (err: unknown) => setError(describeError(err)));
      if (can(role, 'deadLetters')) {
        get('/api/v1/admin/queues').then(setQueues, (err: unknown) => setError(describeError(err)));
      }
    };
    read();
    const timer = setInterval(read, REFRESH_MS);
    return () => clearInterval(timer);
  }, [role]);
  return (
    <>
      <ErrorBanner error={error} />
      <div class="tiles">
        <Tile
          label={t('todayOrders')}
          value={figures ? `${figures.orders}${figures.capped ? '+' : ''}` : '…'}
        />
        <Tile label={t('paidAmount')} value={figures ? yuan(figures.paidCents) : '…'} />
        <Tile label={t('refunds')} value={figures ? yuan(figures.refundedCents) : '…'} />
      </div>
      {queues && (
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
              {queues.map((q) => (
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

function Tile({ label, value }: { label: string; value: string }) {
  return (
    <div class="tile">
      <div class="muted">{label}</div>
      <div class="figure">{value}</div>
    </div>
  );
}
