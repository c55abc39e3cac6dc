// Sign-in by scan (docs/console.md): a ticket, its mini-program code, a poll
// every 1.5 s, a new ticket when it expires; in the sandbox a development
// sign-in approves the ticket as the sandbox admin.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, type Data } from '../api';
import { lang, setLang, t } from '../i18n';
import { loadMe } from '../session';
import { describeError, ErrorBanner } from '../ui';

type Ticket = Data<'/console/login-tickets', 'post'>;
const POLL_MS = 1500;

export function LoginPage() {
  const [ticket, setTicket] = useState<Ticket | null>(null);
  const [renewed, setRenewed] = useState(false);
  const [devAvailable, setDevAvailable] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const renew = () =>
    call('post', '/console/login-tickets').then(setTicket, (err: unknown) =>
      setError(describeError(err)),
    );
  useEffect(() => void renew(), []);

  useEffect(() => {
    if (!ticket) return;
    let stopped = false;
    const timer = setInterval(() => {
      call('get', '/console/login-tickets/{ticket}', { params: { ticket: ticket.ticket } }).then(
        ({ status }) => {
          if (stopped) return;
          if (status === 'approved') {
            stopped = true;
            clearInterval(timer);
            void loadMe();
          } else if (status === 'expired') {
            stopped = true;
            clearInterval(timer);
            setRenewed(true);
            void renew();
          }
        },
        (err: unknown) => setError(describeError(err)),
      );
    }, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [ticket]);

  const devSignIn = () => {
    if (!ticket) return;
    call('post', '/console/login-tickets/{ticket}/dev-approve', {
      params: { ticket: ticket.ticket },
    }).catch((err: unknown) => {
      // Outside the sandbox the route does not exist: hide the button.
      if (err instanceof ApiError && err.status === 404) setDevAvailable(false);
      else setError(describeError(err));
    });
  };

  return (
    <main class="login">
      <h1>{t('appName')}</h1>
      <h2>{t('signIn')}</h2>
      <p class="muted">{t('signInHint')}</p>
      {renewed && <p class="muted">{t('expiredRenewing')}</p>}
      {ticket && (
        <img class="qrcode" src={ticket.qrcode} alt="qrcode" data-ticket={ticket.ticket} />
      )}
      <p>
        <button
          type="button"
          id="language"
          onClick={() => setLang(lang.get() === 'en' ? 'zh' : 'en')}
        >
          {t('language')}
        </button>
      </p>
      {devAvailable && ticket && (
        <p>
          <button type="button" id="dev-sign-in" onClick={devSignIn}>
            {t('devSignIn')}
          </button>
        </p>
      )}
      <ErrorBanner error={error} />
    </main>
  );
}
