import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { createLogger } from './logger.js';
import { lazyChildLogger } from './lazy-child-logger.js';

function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger(level, sink) as unknown as FastifyBaseLogger, lines };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('lazyChildLogger', () => {
  it('makes no pino child while the request logs nothing', () => {
    const { logger } = capture();
    const child = vi.spyOn(logger, 'child');
    const lazy = lazyChildLogger(logger, { requestId: 'r1' }, {});
    lazy.debug('below the level');
    expect(child).not.toHaveBeenCalled();
  });

  it('writes lines with the request bindings and redaction, like the eager child', async () => {
    const { logger, lines } = capture();
    const lazy = lazyChildLogger(logger, { requestId: 'r2' }, {});
    lazy.info({ token: 'secret-token' }, 'hello');
    lazy.error('second');
    await flush();
    expect(lines).toMatchObject([
      { requestId: 'r2', message: 'hello', token: '[redacted]' },
      { requestId: 'r2', message: 'second' },
    ]);
  });
});
