// Products: the catalog's list, and create, edit, delete for the roles that
// manage products. A product's name is shown as text, whatever it holds.
import { useState } from 'preact/hooks';
import { call, get, type Body, type Data } from '../api';
import { t, yuan } from '../i18n';
import { can, type Role } from '../roles';
import { Empty, ErrorBanner, Section, useAction, useLoad, valueOf } from '../ui';

type Product = Data<'/api/v1/products'>['items'][number];
type Draft = Body<'/api/v1/admin/products', 'post'>;
const blank: Draft = { name: '', description: '', priceCents: 0, stock: 0, delivery: 'express' };

export function ProductsPage({ role }: { role: Role }) {
  const { data, error, reload } = useLoad(() => get('/api/v1/products', { query: { limit: 100 } }));
  const [editing, setEditing] = useState<Product | null>(null);
  const action = useAction();
  const manage = can(role, 'manageProducts');
  return (
    <>
      {manage && (
        <ProductForm
          key={editing?.id ?? 'new'}
          product={editing}
          done={() => {
            setEditing(null);
            reload();
          }}
        />
      )}
      <Section title={t('products')}>
        <ErrorBanner error={error ?? action.error} />
        <table class="products">
          <thead>
            <tr>
              <th>{t('id')}</th>
              <th>{t('name')}</th>
              <th>{t('price')}</th>
              <th>{t('stock')}</th>
              <th>{t('delivery')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data?.items.map((p) => (
              <tr key={p.id} data-product={p.id}>
                <td>{p.id}</td>
                <td class="product-name">{p.name}</td>
                <td>{yuan(p.priceCents)}</td>
                <td>{p.stock}</td>
                <td>{t(p.delivery)}</td>
                <td>
                  {manage && (
                    <>
                      <button type="button" onClick={() => setEditing(p)}>
                        {t('edit')}
                      </button>
                      <button
                        type="button"
                        onClick={() =>
                          void action.run(
                            () =>
                              call('delete', '/api/v1/admin/products/{id}', {
                                params: { id: p.id },
                              }),
                            reload,
                          )
                        }
                      >
                        {t('delete')}
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <Empty when={data?.items.length === 0} />
      </Section>
    </>
  );
}

function ProductForm({ product, done }: { product: Product | null; done: () => void }) {
  const [draft, setDraft] = useState<Draft>(
    product
      ? {
          name: product.name,
          description: product.description,
          priceCents: product.priceCents,
          stock: product.stock,
          delivery: product.delivery,
        }
      : blank,
  );
  const action = useAction();
  const text = (key: 'name' | 'description') => (e: Event) =>
    setDraft({ ...draft, [key]: valueOf(e) });
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(
      () =>
        product
          ? call('patch', '/api/v1/admin/products/{id}', {
              params: { id: product.id },
              body: draft,
            })
          : call('post', '/api/v1/admin/products', { body: draft }),
      () => {
        if (!product) setDraft(blank);
        done();
      },
    );
  };
  return (
    <Section title={product ? `${t('edit')} #${product.id}` : t('create')}>
      <form id="product-form" class="grid" onSubmit={submit}>
        <label>
          {t('name')} <input name="name" required value={draft.name} onInput={text('name')} />
        </label>
        <label>
          {t('description')}{' '}
          <input name="description" value={draft.description} onInput={text('description')} />
        </label>
        <label>
          {t('price')}{' '}
          <input
            name="price"
            inputMode="decimal"
            value={(draft.priceCents / 100).toFixed(2)}
            onChange={(e) =>
              setDraft({ ...draft, priceCents: Math.round(Number(valueOf(e)) * 100) })
            }
          />
        </label>
        <label>
          {t('stock')}{' '}
          <input
            name="stock"
            type="number"
            min="0"
            value={draft.stock}
            onInput={(e) => setDraft({ ...draft, stock: Number(valueOf(e)) })}
          />
        </label>
        <label>
          {t('delivery')}{' '}
          <select
            name="delivery"
            value={draft.delivery}
            onChange={(e) => setDraft({ ...draft, delivery: valueOf(e) as Draft['delivery'] })}
          >
            <option value="express">{t('express')}</option>
            <option value="virtual">{t('virtual')}</option>
          </select>
        </label>
        <button type="submit" disabled={action.busy}>
          {product ? t('save') : t('create')}
        </button>
      </form>
      <ErrorBanner error={action.error} />
    </Section>
  );
}
