import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { dataSourceOptions, type Entities } from './data-source-options.js';
import { traceDataSource } from '../tracing/index.js';
import { PoolMetrics } from './pool-metrics.js';
import { QueryDeadlines } from './query-deadlines.js';

/**
 * The TypeORM data source (primary + replicas, or the embedded engine).
 * @nestjs/typeorm destroys it on application shutdown, after the HTTP server
 * has finished its in-flight requests. Its pools are gauged in /metrics, a
 * request's queries follow its budget (query-deadlines.ts), and with
 * tracing on, each statement is a span. The entities come from the
 * composition root (src/entities.ts): this layer never imports the domain.
 */
@Module({})
export class DatabaseModule {
  constructor(dataSource: DataSource) {
    traceDataSource(dataSource);
  }

  static forRoot(entities: Entities): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: async (config: AppConfig) => ({
            ...(await dataSourceOptions(config, entities)),
            retryAttempts: 2,
            retryDelay: 1000,
          }),
        }),
      ],
      providers: [PoolMetrics, QueryDeadlines],
    };
  }
}
