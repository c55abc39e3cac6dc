import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import { dropRedisKeys, redisKeysUnder } from './helpers/env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The key prefix of this run on the shared Redis; every test prefix starts with it. */
    redisRunPrefix: string;
  }
}

/**
 * One key prefix per run and project on the shared Redis (other runs, other
 * people's, use it at the same time). At the end, anything still under it is
 * a test that wrote to Redis outside its file's prefix cleanup (a process or
 * timer that outlived its file): the keys are deleted and the run fails,
 * naming them.
 */
export default function setup(project: TestProject) {
  // Short: with the file's and the test's parts it must fit REDIS_KEY_PREFIX's 32 chars.
  const prefix = `tr${randomBytes(3).toString('hex')}:`;
  project.provide('redisRunPrefix', prefix);
  return async () => {
    const left = await redisKeysUnder(prefix);
    if (left.length === 0) return;
    await dropRedisKeys(prefix);
    // Vitest only prints an error thrown here ("error during close"); the
    // exit code is what fails CI.
    process.exitCode = 1;
    throw new Error(
      `the test run left ${left.length} key(s) in Redis (now deleted), e.g. ${left.slice(0, 5).join(', ')}`,
    );
  };
}
