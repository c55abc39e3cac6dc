// Who is signed in: GET /users/me through the cookie session. Nothing about
// the session is kept here but the user it answered.
import { call, get, signedOut, type Data } from './api';
import { signal } from './signal';

export type Me = Data<'/api/v1/users/me'>;
/** undefined: not asked yet; null: signed out. */
export const me = signal<Me | null | undefined>(undefined);

signedOut.add(() => me.set(null));

export async function loadMe(): Promise<void> {
  try {
    me.set(await get('/api/v1/users/me'));
  } catch {
    me.set(null);
  }
}

export async function signOut(): Promise<void> {
  await call('post', '/console/logout').catch(() => undefined);
  me.set(null);
}
