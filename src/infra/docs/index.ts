export { setupDocs } from './docs.js';
