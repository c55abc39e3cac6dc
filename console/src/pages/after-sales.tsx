// The after-sales queue (docs/after-sales.md): oldest open first, or one
// status; approve (optionally less), reject with a reason, mark a return
// received, each for the roles that may.
import { useState } from 'preact/hooks';
import { call, get, type Data, type Query } from '../api';
import { t, when, yuan } from '../i18n';
import { can, type Role } from '../roles';
import { linkProps } from '../router';
import { Empty, ErrorBanner, Section, useAction, usePages, valueOf } from '../ui';

type Request = Data<'/api/v1/admin/after-sales'>['items'][number];
type Status = NonNullable<Query<'/api/v1/admin/after-sales'>['status']>;
const STATUSES: Status[] = [
  'requested',
  'approved',
  'returning',
  'received',
  'refunding',
  'refunded',
  'rejected',
  'cancelled',
];

export function AfterSalesPage({ role }: { role: Role }) {
  const [status, setStatus] = useState<Status | ''>('');
  const { rows, cursor, error, reload, more } = usePages<Request>(
    (after) =>
      get('/api/v1/admin/after-sales', {
        query: { limit: 50, ...(status ? { status } : {}), ...(after ? { cursor: after } : {}) },
      }),
    [status],
  );
  return (
    <Section title={t('afterSales')}>
      <div class="filters">
        <select name="status" value={status} onChange={(e) => setStatus(valueOf(e) as Status | '')}>
          <option value="">{t('open')}</option>
          {STATUSES.map((s) => (
            <option value={s}>{s}</option>
          ))}
        </select>
      </div>
      <ErrorBanner error={error} />
      <table class="after-sales">
        <thead>
          <tr>
            <th>{t('id')}</th>
            <th>{t('orders')}</th>
            <th>{t('type')}</th>
            <th>{t('status')}</th>
            <th>{t('amountYuan')}</th>
            <th>{t('reason')}</th>
            <th>{t('created')}</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <AfterSalesRow key={r.id} request={r} role={role} done={reload} />
          ))}
        </tbody>
      </table>
      <Empty when={rows.length === 0} />
      {cursor && (
        <button type="button" onClick={more}>
          {t('loadMore')}
        </button>
      )}
    </Section>
  );
}

function AfterSalesRow({
  request: r,
  role,
  done,
}: {
  request: Request;
  role: Role;
  done: () => void;
}) {
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const action = useAction();
  const params = { id: r.id };
  const approve = () => {
    const cents = amount ? Math.round(Number(amount) * 100) : undefined;
    void action.run(
      () =>
        call('post', '/api/v1/admin/after-sales/{id}/approve', {
          params,
          body: cents ? { amountCents: cents } : {},
        }),
      done,
    );
  };
  const reject = () =>
    void action.run(
      () => call('post', '/api/v1/admin/after-sales/{id}/reject', { params, body: { reason } }),
      done,
    );
  const receive = () =>
    void action.run(() => call('post', '/api/v1/admin/after-sales/{id}/receive', { params }), done);
  return (
    <tr data-after-sales={r.id} data-status={r.status}>
      <td>{r.id}</td>
      <td>
        <a {...linkProps(`orders/${r.orderId}`)}>#{r.orderId}</a>
      </td>
      <td>{r.type}</td>
      <td class="as-status">{r.status}</td>
      <td>
        {yuan(r.amountCents)}
        {r.approvedCents !== null && r.approvedCents !== r.amountCents
          ? ` → ${yuan(r.approvedCents)}`
          : ''}
      </td>
      <td>
        {r.reason}
        {r.description ? ` · ${r.description}` : ''}
        {r.rejectReason ? ` · ${r.rejectReason}` : ''}
        {r.returnTrackingNo ? ` · ${r.returnCarrier ?? ''} ${r.returnTrackingNo}` : ''}
      </td>
      <td>{when(r.createdAt)}</td>
      <td>
        {r.status === 'requested' && can(role, 'decideAfterSales') && (
          <>
            <input
              name="amount"
              inputMode="decimal"
              placeholder={t('amountYuan')}
              value={amount}
              onInput={(e) => setAmount(valueOf(e))}
            />
            <button type="button" class="approve" disabled={action.busy} onClick={approve}>
              {t('approve')}
            </button>
            <input
              name="rejectReason"
              placeholder={t('reason')}
              value={reason}
              onInput={(e) => setReason(valueOf(e))}
            />
            <button type="button" class="reject" disabled={action.busy || !reason} onClick={reject}>
              {t('reject')}
            </button>
          </>
        )}
        {r.status === 'returning' && can(role, 'receiveReturn') && (
          <button type="button" class="receive" disabled={action.busy} onClick={receive}>
            {t('receive')}
          </button>
        )}
        <ErrorBanner error={action.error} />
      </td>
    </tr>
  );
}
