// Orders: the back office's list and search (keyset pages), and one order in
// full with its actions (ship in packages, cancel, refund) for the roles
// that may take them.
import { useState } from 'preact/hooks';
import { call, get, idempotencyKey, urlOf, type Data, type Query } from '../api';
import { t, when, yuan } from '../i18n';
import { can, type Role } from '../roles';
import { linkProps } from '../router';
import { Empty, ErrorBanner, Section, useAction, useLoad, usePages, valueOf } from '../ui';

type Summary = Data<'/api/v1/admin/orders'>['items'][number];
type Filters = Query<'/api/v1/admin/orders'>;
type Status = NonNullable<Filters['status']>;
const STATUSES: Status[] = [
  'pending',
  'paid',
  'shipped',
  'completed',
  'cancelled',
  'refunding',
  'refunded',
];
const PAGE = 100;

export function OrdersPage({ role }: { role: Role }) {
  const [draft, setDraft] = useState<Filters>({});
  const [filters, setFilters] = useState<Filters>({});
  const { rows, cursor, loaded, error, more } = usePages<Summary>(
    (after) =>
      get('/api/v1/admin/orders', {
        query: { ...filters, limit: PAGE, ...(after ? { cursor: after } : {}) },
      }),
    [filters],
  );

  const set = (key: keyof Filters) => (e: Event) =>
    setDraft({ ...draft, [key]: valueOf(e) || undefined });
  const submit = (e: Event) => {
    e.preventDefault();
    setFilters({ ...draft });
  };

  return (
    <Section title={t('orders')}>
      <form class="filters" onSubmit={submit}>
        <input name="q" placeholder={t('searchHint')} value={draft.q ?? ''} onInput={set('q')} />
        <select name="status" value={draft.status ?? ''} onChange={set('status')}>
          <option value="">{t('all')}</option>
          {STATUSES.map((s) => (
            <option value={s}>{s}</option>
          ))}
        </select>
        <label>
          {t('from')} <input type="date" name="from" onInput={set('from')} />
        </label>
        <label>
          {t('to')} <input type="date" name="to" onInput={set('to')} />
        </label>
        <button type="submit">{t('search')}</button>
        {can(role, 'export') && (
          <a
            class="button"
            id="export-csv"
            href={urlOf('/api/v1/admin/orders/export', {}, filters)}
          >
            {t('exportCsv')}
          </a>
        )}
      </form>
      <ErrorBanner error={error} />
      <table class="orders">
        <thead>
          <tr>
            <th>{t('id')}</th>
            <th>{t('status')}</th>
            <th>{t('total')}</th>
            <th>{t('refunded')}</th>
            <th>{t('consignee')}</th>
            <th>{t('phone')}</th>
            <th>{t('created')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((o) => (
            <tr key={o.id} data-order={o.id}>
              <td>
                <a {...linkProps(`orders/${o.id}`)}>#{o.id}</a>
              </td>
              <td>
                <span class={`status status-${o.status}`}>{o.status}</span>
              </td>
              <td>{yuan(o.totalCents)}</td>
              <td>{yuan(o.refundedCents)}</td>
              <td>{o.address?.name ?? '—'}</td>
              <td>{o.address?.phone ?? '—'}</td>
              <td>{when(o.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Empty when={loaded && rows.length === 0} />
      {cursor ? (
        <button type="button" id="load-more" onClick={more}>
          {t('loadMore')}
        </button>
      ) : (
        loaded && rows.length > 0 && <p class="muted">{t('noMore')}</p>
      )}
    </Section>
  );
}

type Order = Data<'/api/v1/admin/orders/{id}'>;
interface PackageDraft {
  carrier: string;
  trackingNo: string;
}

export function OrderPage({ id, role }: { id: number; role: Role }) {
  const {
    data: order,
    error,
    reload,
  } = useLoad(() => get('/api/v1/admin/orders/{id}', { params: { id } }), [id]);
  const action = useAction();
  if (!order) return <ErrorBanner error={error ?? null} />;
  return (
    <div class="order" data-status={order.status}>
      <p>
        <a {...linkProps('orders')}>← {t('back')}</a>
      </p>
      <Section title={`${t('orders')} #${order.id}`}>
        <dl class="facts">
          <dt>{t('status')}</dt>
          <dd id="order-status">{order.status}</dd>
          <dt>{t('user')}</dt>
          <dd>{order.userId}</dd>
          <dt>{t('total')}</dt>
          <dd>{yuan(order.totalCents)}</dd>
          <dt>{t('refunded')}</dt>
          <dd id="order-refunded">{yuan(order.refundedCents)}</dd>
          <dt>{t('created')}</dt>
          <dd>{when(order.createdAt)}</dd>
          <dt>{t('address')}</dt>
          <dd>
            {order.address
              ? `${order.address.name} ${order.address.phone} ${order.address.province}${order.address.city}${order.address.district}${order.address.detail}`
              : '—'}
          </dd>
        </dl>
        {order.remark && <p class="remark">{order.remark}</p>}
      </Section>
      <Section title={t('lines')}>
        <table>
          <tbody>
            {order.items.map((i) => (
              <tr>
                <td>{i.productId}</td>
                <td>{i.name}</td>
                <td>{yuan(i.unitPriceCents)}</td>
                <td>×{i.quantity}</td>
                <td>{yuan(i.subtotalCents)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Section title={t('payments')}>
        <Empty when={order.payments.length === 0} />
        {order.payments.map((p) => (
          <p>
            {p.outTradeNo} · {p.transactionId ?? '—'} · {yuan(p.paidCents)} · {when(p.paidAt)}
          </p>
        ))}
      </Section>
      <Section title={t('refunds')}>
        <Empty when={order.refunds.length === 0} />
        {order.refunds.map((r) => (
          <p class="refund-row">
            {r.outRefundNo} · {yuan(r.amountCents)} · {r.state} · {r.reason ?? ''} ·{' '}
            {when(r.createdAt)}
          </p>
        ))}
      </Section>
      <Section title={t('shipments')}>
        <Empty when={order.shipments.length === 0} />
        <ul id="shipments">
          {order.shipments.map((s) => (
            <li>
              {s.carrier ?? '—'} {s.trackingNo ?? ''} · {when(s.shippedAt)}
            </li>
          ))}
        </ul>
      </Section>
      <AfterSalesOfOrder order={order} />
      <Section title={t('timeline')}>
        <ol class="timeline">
          {order.timeline.map((e) => (
            <li>
              {when(e.at)} · {e.from ?? '∅'} → {e.to} · {e.actor}
              {e.actorId !== null ? ` #${e.actorId}` : ''} {e.reason ? `· ${e.reason}` : ''}
            </li>
          ))}
        </ol>
      </Section>
      <ErrorBanner error={action.error} />
      {order.status === 'paid' && can(role, 'ship') && <ShipForm order={order} done={reload} />}
      {order.status === 'pending' && can(role, 'cancelOrder') && (
        <button
          type="button"
          id="cancel-order"
          disabled={action.busy}
          onClick={() =>
            void action.run(
              () => call('post', '/api/v1/admin/orders/{id}/cancel', { params: { id } }),
              reload,
            )
          }
        >
          {t('cancel')}
        </button>
      )}
      {['paid', 'shipped', 'completed'].includes(order.status) &&
        order.refundedCents < order.totalCents &&
        can(role, 'refund') && <RefundForm order={order} done={reload} />}
    </div>
  );
}

function AfterSalesOfOrder({ order }: { order: Order }) {
  return (
    <Section title={t('afterSales')}>
      <Empty when={order.afterSales.length === 0} />
      <ul id="order-after-sales">
        {order.afterSales.map((r) => (
          <li>
            #{r.id} · {r.type} · {r.status} · {yuan(r.approvedCents ?? r.amountCents)} · {r.reason}{' '}
            · {when(r.createdAt)}
          </li>
        ))}
      </ul>
    </Section>
  );
}

function ShipForm({ order, done }: { order: Order; done: () => void }) {
  const [packages, setPackages] = useState<PackageDraft[]>([{ carrier: '', trackingNo: '' }]);
  const action = useAction();
  const edit = (i: number, key: keyof PackageDraft) => (e: Event) =>
    setPackages(packages.map((p, j) => (j === i ? { ...p, [key]: valueOf(e) } : p)));
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(
      () =>
        call('post', '/api/v1/admin/orders/{id}/ship', {
          params: { id: order.id },
          body: { packages: packages.filter((p) => p.carrier && p.trackingNo) },
        }),
      done,
    );
  };
  return (
    <Section title={t('ship')}>
      <form id="ship-form" onSubmit={submit}>
        {packages.map((p, i) => (
          <div class="package">
            <input
              name="carrier"
              placeholder={t('carrier')}
              value={p.carrier}
              onInput={edit(i, 'carrier')}
            />
            <input
              name="trackingNo"
              placeholder={t('trackingNo')}
              value={p.trackingNo}
              onInput={edit(i, 'trackingNo')}
            />
          </div>
        ))}
        <button
          type="button"
          id="add-package"
          onClick={() => setPackages([...packages, { carrier: '', trackingNo: '' }])}
        >
          {t('addPackage')}
        </button>
        <button type="submit" id="ship" disabled={action.busy}>
          {t('ship')}
        </button>
      </form>
      <ErrorBanner error={action.error} />
    </Section>
  );
}

function RefundForm({ order, done }: { order: Order; done: () => void }) {
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const cents = amount ? Math.round(Number(amount) * 100) : undefined;
    void action.run(
      () =>
        call('post', '/api/v1/admin/orders/{id}/refund', {
          params: { id: order.id },
          headers: { 'Idempotency-Key': idempotencyKey() },
          body: { ...(cents ? { amountCents: cents } : {}), ...(reason ? { reason } : {}) },
        }),
      done,
    );
  };
  return (
    <Section title={t('refund')}>
      <form id="refund-form" onSubmit={submit}>
        <input
          name="amount"
          inputMode="decimal"
          placeholder={t('amountYuan')}
          value={amount}
          onInput={(e) => setAmount(valueOf(e))}
        />
        <input
          name="reason"
          placeholder={t('reason')}
          value={reason}
          onInput={(e) => setReason(valueOf(e))}
        />
        <button type="submit" id="refund" disabled={action.busy}>
          {t('refund')}
        </button>
      </form>
      <ErrorBanner error={action.error} />
    </Section>
  );
}
