export { DatabaseModule } from './database.module.js';
export { dataSourceOptions, type Entities } from './data-source-options.js';
export { insertMany, supportsReturning } from './insert-many.js';
export { forUpdate, locksRows } from './row-lock.js';
export { sentTogether } from './sent-together.js';
export type { InsertManyOptions, InsertManyResult } from './insert-many.js';
