import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Registry } from 'prom-client';
import { APP_CONFIG, type AppConfig } from '../../config/index.js';
import { CatalogModule } from '../catalog/index.js';
import { OrdersModule } from '../orders/index.js';
import { AdmissionGate } from './admission.gate.js';
import { AdminFlashSalesController } from './admin-flash-sales.controller.js';
import { FlashBatchWriter } from './flash-batch.writer.js';
import { FlashMetrics } from './flash-metrics.js';
import { FlashPersister } from './flash-persister.js';
import { PersistPacer } from './flash-persist-pacer.js';
import { FlashSale } from './flash-sale.entity.js';
import { FlashSalesController } from './flash-sales.controller.js';
import { FlashSalesService } from './flash-sales.service.js';
import { FlashSettlement } from './flash-settlement.js';
import { FlashTicket } from './flash-ticket.entity.js';
import { StockBuckets } from './stock-buckets.js';

@Module({
  imports: [TypeOrmModule.forFeature([FlashSale, FlashTicket]), CatalogModule, OrdersModule],
  controllers: [FlashSalesController, AdminFlashSalesController],
  providers: [
    { provide: FlashMetrics, inject: [Registry], useFactory: (r: Registry) => new FlashMetrics(r) },
    {
      provide: PersistPacer,
      inject: [APP_CONFIG],
      useFactory: (c: AppConfig) => new PersistPacer(c.flash.batchSize, c.workerMode === 'all'),
    },
    StockBuckets,
    AdmissionGate,
    FlashSalesService,
    FlashBatchWriter,
    FlashPersister,
    FlashSettlement,
  ],
})
export class FlashSalesModule {}
