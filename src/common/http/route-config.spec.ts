import 'reflect-metadata';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';
import { Budget, BUDGET_ROUTE } from './budget.decorator.js';
import { Compressed, COMPRESSED_ROUTE } from './compressed.decorator.js';
import { RawBody, RAW_BODY_ROUTE } from './raw-body.js';

describe('routeConfig decorators', () => {
  it('combine in either order: each adds its entry to the route config', () => {
    class Routes {
      @Budget('wechat')
      @Compressed()
      budgetAbove() {}

      @Compressed()
      @Budget('wechat')
      @RawBody()
      budgetBelow() {}
    }
    const configOf = (method: keyof Routes) =>
      Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, Routes.prototype[method]) as Record<
        string,
        unknown
      >;
    expect(configOf('budgetAbove')).toEqual({
      [BUDGET_ROUTE]: 'wechat',
      [COMPRESSED_ROUTE]: true,
    });
    expect(configOf('budgetBelow')).toEqual({
      [BUDGET_ROUTE]: 'wechat',
      [COMPRESSED_ROUTE]: true,
      [RAW_BODY_ROUTE]: true,
    });
  });
});
