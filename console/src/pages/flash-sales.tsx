// Flash sales: create one, and follow sales live (their remaining stock read
// every 2 s). There is no list of sales in the API: a sale is followed by id,
// the one just created being followed at once.
import { useEffect, useState } from 'preact/hooks';
import { call, get, type Body, type Data } from '../api';
import { t, when, yuan } from '../i18n';
import { can, type Role } from '../roles';
import { describeError, ErrorBanner, Section, useAction, valueOf } from '../ui';

type Sale = Data<'/api/v1/flash-sales/{id}'>;
type Draft = Body<'/api/v1/admin/flash-sales', 'post'>;
const REFRESH_MS = 2000;

export function FlashSalesPage({ role }: { role: Role }) {
  const [followed, setFollowed] = useState<number[]>([]);
  const [idDraft, setIdDraft] = useState('');
  const follow = (id: number) => setFollowed((f) => (f.includes(id) ? f : [...f, id]));
  return (
    <>
      {can(role, 'manageFlashSales') && <FlashSaleForm created={follow} />}
      <Section title={t('liveFlashSales')}>
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            if (Number(idDraft) > 0) follow(Number(idDraft));
          }}
        >
          <input
            name="saleId"
            inputMode="numeric"
            placeholder={t('id')}
            value={idDraft}
            onInput={(e) => setIdDraft(valueOf(e))}
          />
          <button type="submit">{t('follow')}</button>
        </form>
        <LiveSales ids={followed} />
      </Section>
    </>
  );
}

/** The sales `ids`, read again every 2 s. */
export function LiveSales({ ids }: { ids: number[] }) {
  const [sales, setSales] = useState<Sale[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const read = () =>
      Promise.all(ids.map((id) => get('/api/v1/flash-sales/{id}', { params: { id } }))).then(
        (s) => {
          setSales(s);
          setError(null);
        },
        (err: unknown) => setError(describeError(err)),
      );
    void read();
    const timer = setInterval(() => void read(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [ids.join(',')]);
  return (
    <>
      <ErrorBanner error={error} />
      <table>
        <thead>
          <tr>
            <th>{t('id')}</th>
            <th>{t('productId')}</th>
            <th>{t('price')}</th>
            <th>{t('stock')}</th>
            <th>{t('remaining')}</th>
            <th>{t('status')}</th>
            <th>{t('endsAt')}</th>
          </tr>
        </thead>
        <tbody>
          {sales.map((s) => (
            <tr data-sale={s.id}>
              <td>{s.id}</td>
              <td>{s.productId}</td>
              <td>{yuan(s.priceCents)}</td>
              <td>{s.stock}</td>
              <td class="remaining">{s.remaining}</td>
              <td>{s.status}</td>
              <td>{when(s.endsAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

const localInput = (d: Date) =>
  new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

function FlashSaleForm({ created }: { created: (id: number) => void }) {
  const now = new Date();
  const [draft, setDraft] = useState({
    productId: '',
    price: '',
    stock: '100',
    perUserLimit: '1',
    startsAt: localInput(now),
    endsAt: localInput(new Date(now.getTime() + 3600_000)),
  });
  const action = useAction();
  const field = (key: keyof typeof draft) => (e: Event) =>
    setDraft({ ...draft, [key]: valueOf(e) });
  const submit = (e: Event) => {
    e.preventDefault();
    const body: Draft = {
      productId: Number(draft.productId),
      priceCents: Math.round(Number(draft.price) * 100),
      stock: Number(draft.stock),
      perUserLimit: Number(draft.perUserLimit),
      startsAt: new Date(draft.startsAt).toISOString(),
      endsAt: new Date(draft.endsAt).toISOString(),
    };
    void action.run(async () =>
      created((await call('post', '/api/v1/admin/flash-sales', { body })).id),
    );
  };
  return (
    <Section title={`${t('create')} · ${t('flashSales')}`}>
      <form id="flash-sale-form" class="grid" onSubmit={submit}>
        <label>
          {t('productId')}{' '}
          <input
            name="productId"
            inputMode="numeric"
            value={draft.productId}
            onInput={field('productId')}
          />
        </label>
        <label>
          {t('price')}{' '}
          <input name="price" inputMode="decimal" value={draft.price} onInput={field('price')} />
        </label>
        <label>
          {t('stock')}{' '}
          <input name="stock" type="number" value={draft.stock} onInput={field('stock')} />
        </label>
        <label>
          {t('perUserLimit')}{' '}
          <input
            name="perUserLimit"
            type="number"
            value={draft.perUserLimit}
            onInput={field('perUserLimit')}
          />
        </label>
        <label>
          {t('startsAt')}{' '}
          <input
            name="startsAt"
            type="datetime-local"
            value={draft.startsAt}
            onInput={field('startsAt')}
          />
        </label>
        <label>
          {t('endsAt')}{' '}
          <input
            name="endsAt"
            type="datetime-local"
            value={draft.endsAt}
            onInput={field('endsAt')}
          />
        </label>
        <button type="submit" disabled={action.busy}>
          {t('create')}
        </button>
      </form>
      <ErrorBanner error={action.error} />
    </Section>
  );
}
