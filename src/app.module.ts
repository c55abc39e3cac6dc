import { Module, type DynamicModule, type ModuleMetadata } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { EnvelopeExceptionFilter, createValidationPipe } from './common/http/index.js';
import { ConfigModule, type AppConfig } from './config/index.js';
import { entities } from './entities.js';
import { AuditModule } from './infra/audit/index.js';
import { BusModule } from './infra/bus/index.js';
import { CacheModule } from './infra/cache/index.js';
import { ConsistencyModule } from './infra/consistency/index.js';
import { DatabaseModule } from './infra/database/index.js';
import { HealthModule } from './infra/health/index.js';
import { LifecycleModule } from './infra/lifecycle/index.js';
import { MetricsModule } from './infra/metrics/index.js';
import { QueueModule } from './infra/queue/index.js';
import { RedisModule } from './infra/redis/index.js';
import { SettingsModule } from './infra/settings/index.js';
import { ThrottleModule } from './infra/throttle/index.js';
import { TransactionsModule } from './infra/transactions/index.js';
import { CatalogModule } from './modules/catalog/index.js';
import { NotificationsModule } from './modules/notifications/index.js';
import { OrdersModule } from './modules/orders/index.js';
import { PaymentsModule } from './modules/payments/index.js';
import { FlashSalesModule } from './modules/flash-sales/index.js';
import { AuthModule } from './modules/auth/index.js';
import { UsersModule } from './modules/users/index.js';
import { WechatPushModule } from './modules/wechat-push/index.js';
import { StaffModule } from './modules/staff/index.js';
import { AfterSalesModule } from './modules/after-sales/index.js';

/** The modular monolith: infrastructure first, then the domain modules. */
@Module({})
export class AppModule {
  /** `extra` lets the e2e suite mount probe routes beside the real modules. */
  static register(config: AppConfig, extra: ModuleMetadata['imports'] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LifecycleModule,
        MetricsModule,
        DatabaseModule.forRoot(entities),
        TransactionsModule,
        AuditModule,
        RedisModule,
        BusModule,
        CacheModule,
        ConsistencyModule.forRoot(config),
        HealthModule,
        SettingsModule,
        ThrottleModule,
        QueueModule.forRoot(config),
        UsersModule,
        AuthModule,
        CatalogModule,
        OrdersModule,
        PaymentsModule,
        AfterSalesModule,
        FlashSalesModule,
        NotificationsModule,
        WechatPushModule,
        StaffModule,
        ...extra,
      ],
      providers: [
        { provide: APP_FILTER, useClass: EnvelopeExceptionFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}
