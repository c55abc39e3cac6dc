import type { TestApp } from './app.js';
import type { LoggedIn } from './auth.js';

/** A delivery address as `wx.chooseAddress` gives it, under the API's names. */
export const SAMPLE_ADDRESS = {
  name: 'Zhang San',
  phone: '13800138000',
  province: 'Guangdong',
  city: 'Guangzhou',
  district: 'Haizhu',
  detail: 'No. 1 Xingang Road',
  postalCode: '510000',
};

const booked = new WeakMap<LoggedIn, Promise<number>>();

/**
 * The id of an address in the user's book, added on the first call for that
 * user: an order of express goods needs one before it can be paid.
 */
export function addressIdOf(app: TestApp, user: LoggedIn): Promise<number> {
  let id = booked.get(user);
  if (!id) {
    id = app.http
      .post('/api/v1/users/me/addresses')
      .set('Authorization', `Bearer ${user.accessToken}`)
      .send(SAMPLE_ADDRESS)
      .then((res) => {
        if (res.status !== 201) throw new Error(`adding an address answered ${res.status}`);
        return res.body.data.id as number;
      });
    booked.set(user, id);
  }
  return id;
}
