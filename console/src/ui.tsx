// The few shared pieces of the pages: loading a read, showing an error,
// a confirm-and-run button.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from './api';
import { t } from './i18n';

export const describeError = (err: unknown): string =>
  err instanceof ApiError ? err.describe() : String((err as Error)?.message ?? err);

/** A read run on mount and when `deps` change; `reload` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    load().then(
      (d) => {
        setData(d);
        setError(null);
      },
      (err: unknown) => setError(describeError(err)),
    );
  }, deps);
  useEffect(reload, [reload]);
  return { data, error, reload };
}

/**
 * A keyset-paged list (`{ items, nextCursor }`): the first page on mount and
 * when `deps` change, `more` appends the next; `loaded` once a page arrived.
 */
export function usePages<T>(
  fetchPage: (cursor: string | null) => Promise<{ items: T[]; nextCursor: string | null }>,
  deps: unknown[] = [],
) {
  const [rows, setRows] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const load = (after: string | null) =>
    fetchPage(after).then(
      (page) => {
        setRows((prev) => (after ? [...prev, ...page.items] : page.items));
        setCursor(page.nextCursor);
        setError(null);
        setLoaded(true);
      },
      (err: unknown) => setError(describeError(err)),
    );
  const reload = useCallback(() => void load(null), deps);
  useEffect(reload, [reload]);
  const more = () => {
    if (cursor) void load(cursor);
  };
  return { rows, cursor, loaded, error, reload, more };
}

export function ErrorBanner({ error }: { error: string | null }) {
  return error ? (
    <p class="error" role="alert">
      {t('error')}: {error}
    </p>
  ) : null;
}

/** A write: runs `action`, shows its error, then `after`. */
export function useAction() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<unknown>, after?: () => void) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      after?.();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, run };
}

export function Section({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="card">
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export function Empty({ when }: { when: boolean }) {
  return when ? <p class="muted">{t('empty')}</p> : null;
}

/** An input's value, typed. */
export const valueOf = (e: Event) => (e.currentTarget as HTMLInputElement).value;
