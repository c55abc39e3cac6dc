import { loadConfig } from '../../config/index.js';
import { applyPatch, decodeSettings, frozen, seedSettings } from './settings.model.js';

const seed = seedSettings(
  loadConfig({ THROTTLE_ORDERS_LIMIT: '25', THROTTLE_ORDERS_TTL: '30', THROTTLE_LOGIN_LIMIT: '8' }),
);

describe('runtime settings model', () => {
  it('seeds from the env: flash takes the orders values, every feature on, readOnly off', () => {
    expect(seed).toEqual({
      throttle: {
        default: { limit: 300, ttl: 60 },
        login: { limit: 8, ttl: 60 },
        orders: { limit: 25, ttl: 30 },
        flash: { limit: 25, ttl: 30 },
      },
      switches: { orders: true, flashSales: true, payments: true, readOnly: false },
    });
  });

  it('changes only what a patch names, field by field', () => {
    const next = applyPatch(seed, {
      throttle: { login: { ttl: 10 } },
      switches: { payments: false },
    });
    expect(next.throttle.login).toEqual({ limit: 8, ttl: 10 });
    expect(next.throttle.orders).toEqual(seed.throttle.orders);
    expect(next.switches).toEqual({ ...seed.switches, payments: false });
    expect(seed.throttle.login).toEqual({ limit: 8, ttl: 60 });
  });

  it('reads stored JSON, taking the seed for names it lacks or holds invalid', () => {
    const stored = JSON.stringify({
      throttle: { default: { limit: 5, ttl: 5 }, login: { limit: 0, ttl: 5 } },
      switches: { orders: false, readOnly: 'yes' },
    });
    const read = decodeSettings(stored, seed);
    expect(read.throttle.default).toEqual({ limit: 5, ttl: 5 });
    expect(read.throttle.login).toEqual(seed.throttle.login);
    expect(read.throttle.flash).toEqual(seed.throttle.flash);
    expect(read.switches).toEqual({ ...seed.switches, orders: false });
    expect(decodeSettings('not json', seed)).toEqual(seed);
  });

  it('hands out snapshots that cannot be changed by their readers', () => {
    const snapshot = frozen(applyPatch(seed, {}));
    expect(() => {
      (snapshot.throttle.default as { limit: number }).limit = 1;
    }).toThrow(TypeError);
    expect(() => {
      (snapshot.switches as { orders: boolean }).orders = false;
    }).toThrow(TypeError);
  });
});
