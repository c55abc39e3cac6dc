export { ConsistencyModule } from './consistency.module.js';
export { ConsistencyService } from './consistency.service.js';
export type { ReadTarget } from './consistency.service.js';
