// The console's shell: the sign-in page until /users/me answers, then the
// navigation (only the pages the role may use) and the current page.
import { render } from 'preact';
import { lang, setLang, t, type Key } from './i18n';
import { AfterSalesPage } from './pages/after-sales';
import { DashboardPage } from './pages/dashboard';
import { FlashSalesPage } from './pages/flash-sales';
import { LoginPage } from './pages/login';
import { AuditPage, ContentFlagsPage, DeadLettersPage } from './pages/operations';
import { OrderPage, OrdersPage } from './pages/orders';
import { ProductsPage } from './pages/products';
import { SettingsPage } from './pages/settings';
import { UsersPage } from './pages/users';
import { can, type Ability, type Role } from './roles';
import { linkProps, route } from './router';
import { loadMe, me, signOut } from './session';

interface PageDef {
  path: string;
  label: Key;
  ability: Ability;
  view: (props: { role: Role }) => preact.JSX.Element;
}

const PAGES: PageDef[] = [
  { path: '', label: 'dashboard', ability: 'readOrders', view: DashboardPage },
  { path: 'orders', label: 'orders', ability: 'readOrders', view: OrdersPage },
  { path: 'after-sales', label: 'afterSales', ability: 'readAfterSales', view: AfterSalesPage },
  { path: 'products', label: 'products', ability: 'readOrders', view: ProductsPage },
  { path: 'flash-sales', label: 'flashSales', ability: 'readOrders', view: FlashSalesPage },
  { path: 'users', label: 'users', ability: 'readUsers', view: UsersPage },
  { path: 'settings', label: 'settings', ability: 'settings', view: SettingsPage },
  { path: 'dead-letters', label: 'deadLetters', ability: 'deadLetters', view: DeadLettersPage },
  { path: 'content-flags', label: 'contentFlags', ability: 'contentFlags', view: ContentFlagsPage },
  { path: 'audit', label: 'audit', ability: 'audit', view: AuditPage },
];

function Current({ path, role }: { path: string; role: Role }) {
  const order = /^orders\/(\d+)$/.exec(path);
  if (order) return <OrderPage id={Number(order[1])} role={role} />;
  const page = PAGES.find((p) => p.path === path && can(role, p.ability)) ?? PAGES[0];
  const View = page.view;
  return <View role={role} />;
}

function App() {
  const user = me.use();
  const path = route.use();
  const language = lang.use();
  if (user === undefined) return <p class="muted">{t('loading')}</p>;
  if (user === null) return <LoginPage />;
  const role = user.role as Role;
  const section = path.split('/')[0];
  return (
    <div class="shell">
      <nav>
        <h1>{t('appName')}</h1>
        {PAGES.filter((p) => can(role, p.ability)).map((p) => (
          <a
            {...linkProps(p.path)}
            class={section === p.path ? 'current' : ''}
            data-page={p.path || 'dashboard'}
          >
            {t(p.label)}
          </a>
        ))}
      </nav>
      <header>
        <span>
          {t('signedInAs')}: <b id="me">{user.nickname}</b> · <span id="role">{role}</span>
        </span>
        <button
          type="button"
          id="language"
          onClick={() => setLang(language === 'en' ? 'zh' : 'en')}
        >
          {t('language')}
        </button>
        <button type="button" id="sign-out" onClick={() => void signOut()}>
          {t('signOut')}
        </button>
      </header>
      <main>
        <Current path={path} role={role} />
      </main>
    </div>
  );
}

setLang(lang.get());
// Asked before the first render: the page's own reads wait for the answer.
void loadMe();
render(<App />, document.getElementById('app')!);
