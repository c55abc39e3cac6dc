import { dropRedisKeys, fileRedisPrefix } from './helpers/env.js';

// Runs in every test file (vitest setupFiles): after the file's own afterAll
// hooks have closed its apps and clients, whatever they wrote on the shared
// Redis goes, sessions with 30-day TTLs included.
afterAll(async () => {
  await dropRedisKeys(fileRedisPrefix());
});
