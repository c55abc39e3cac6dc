export { HealthModule } from './health.module.js';
export { ReadinessDetails } from './readiness-details.js';
