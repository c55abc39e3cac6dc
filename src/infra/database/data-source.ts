import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../config/index.js';
import { dataSourceOptions } from './data-source-options.js';

// Entry point of the TypeORM CLI (`npm run migration:*`): the same options as
// the app, from the same environment. In embedded mode the CLI works on the
// embedded database file.
export default new DataSource({ ...(await dataSourceOptions(loadConfig())), migrationsRun: false });
