import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './config/index.js';
import { entities } from './entities.js';
import { dataSourceOptions } from './infra/database/index.js';

// Entry point of the TypeORM CLI (`npm run migration:*`,
// `typeorm -d dist/src/data-source.js`): the same options and entities as the
// app, from the same environment. In embedded mode the CLI works on the
// embedded database file.
export default new DataSource({
  ...(await dataSourceOptions(loadConfig(), entities)),
  migrationsRun: false,
});
