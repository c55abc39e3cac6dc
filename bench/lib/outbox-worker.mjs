// The built app in WORKER_MODE=worker with one extra consumer, `bench.echo`,
// that does what a light consumer does (its processed-event record, one
// indexed read) and keeps commit-to-consumer latencies (consumer start minus
// the event's created_at). On SIGUSR2 it prints them as one JSON line and
// forgets them. Started by bench/outbox.bench.mjs, pinned to one core.
import 'reflect-metadata';
import { createApp } from '../../dist/src/app.factory.js';
import { loadConfig } from '../../dist/src/config/index.js';
import { installGracefulShutdown } from '../../dist/src/infra/lifecycle/index.js';
import { ConsumerRegistry } from '../../dist/src/infra/queue/index.js';

const config = loadConfig();
const { app, logger } = await createApp(config);
let latencies = [];
app.get(ConsumerRegistry).register({
  name: 'bench.echo',
  events: ['bench.echo'],
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? 8),
  handle: async (event, m) => {
    latencies.push(Date.now() - event.createdAt.getTime());
    await m.query('SELECT id FROM outbox WHERE id = ?', [event.id]);
  },
});
process.on('SIGUSR2', () => {
  process.stdout.write(`LATENCIES ${JSON.stringify(latencies)}\n`);
  latencies = [];
});
installGracefulShutdown(app, config, logger);
await app.listen({ port: config.http.port, host: '127.0.0.1' });
process.stdout.write('READY\n');
