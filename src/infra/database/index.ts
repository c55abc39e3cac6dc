export { DatabaseModule } from './database.module.js';
export { dataSourceOptions } from './data-source-options.js';
