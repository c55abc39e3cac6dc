// The console's pages are paths under /console/ (the server answers
// index.html for any of them), moved between with the history API.
import { signal } from './signal';

const BASE = '/console/';
const current = () =>
  location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '';

export const route = signal<string>(current());
addEventListener('popstate', () => route.set(current()));

export function navigate(path: string): void {
  history.pushState(null, '', BASE + path);
  route.set(path);
}

/** A link that moves without reloading the page. */
export const linkProps = (path: string) => ({
  href: BASE + path,
  onClick: (e: MouseEvent) => {
    if (e.ctrlKey || e.metaKey || e.shiftKey) return;
    e.preventDefault();
    navigate(path);
  },
});
