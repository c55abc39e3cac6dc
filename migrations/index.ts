import { CreateUsers1732240000000 } from './1732240000000-CreateUsers.js';
import { CreateProducts1732300000000 } from './1732300000000-CreateProducts.js';
import { CreateOrders1732400000000 } from './1732400000000-CreateOrders.js';
import { CreateOutbox1732500000000 } from './1732500000000-CreateOutbox.js';
import { CreatePayments1732550000000 } from './1732550000000-CreatePayments.js';
import { CreateContentFlags1732600000000 } from './1732600000000-CreateContentFlags.js';
import { CreateFlashSales1732650000000 } from './1732650000000-CreateFlashSales.js';
import { CreateSubscribeCredits1732700000000 } from './1732700000000-CreateSubscribeCredits.js';
import { CreateRuntimeSettings1732750000000 } from './1732750000000-CreateRuntimeSettings.js';
import { AddAdminGrant1732760000000 } from './1732760000000-AddAdminGrant.js';
import { AddOutboxTraceparent1732800000000 } from './1732800000000-AddOutboxTraceparent.js';
import { CreateOrderEvents1732850000000 } from './1732850000000-CreateOrderEvents.js';
import { CreateWechatPushMessages1732900000000 } from './1732900000000-CreateWechatPushMessages.js';
import { AddAddresses1732950000000 } from './1732950000000-AddAddresses.js';
import { AddStaffRoles1732960000000 } from './1732960000000-AddStaffRoles.js';
import { CreateMediaChecks1732970000000 } from './1732970000000-CreateMediaChecks.js';
import { AddBackOfficeIndexes1732980000000 } from './1732980000000-AddBackOfficeIndexes.js';
import { CreateAuditLog1732990000000 } from './1732990000000-CreateAuditLog.js';
import { CreateAfterSales1733000000000 } from './1733000000000-CreateAfterSales.js';
import { AddShipmentPackages1733010000000 } from './1733010000000-AddShipmentPackages.js';
import { AddFlashStockBuckets1733100000000 } from './1733100000000-AddFlashStockBuckets.js';

/**
 * Every migration, oldest first. The app (embedded mode), the TypeORM CLI and
 * the tests all run this list; a spec fails if a file here is missing from it.
 */
export const migrations = [
  CreateUsers1732240000000,
  CreateProducts1732300000000,
  CreateOrders1732400000000,
  CreateOutbox1732500000000,
  CreatePayments1732550000000,
  CreateContentFlags1732600000000,
  CreateFlashSales1732650000000,
  CreateSubscribeCredits1732700000000,
  CreateRuntimeSettings1732750000000,
  AddAdminGrant1732760000000,
  AddOutboxTraceparent1732800000000,
  CreateOrderEvents1732850000000,
  CreateWechatPushMessages1732900000000,
  AddAddresses1732950000000,
  AddStaffRoles1732960000000,
  CreateMediaChecks1732970000000,
  AddBackOfficeIndexes1732980000000,
  CreateAuditLog1732990000000,
  CreateAfterSales1733000000000,
  AddShipmentPackages1733010000000,
  AddFlashStockBuckets1733100000000,
];
