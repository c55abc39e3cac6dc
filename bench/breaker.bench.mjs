// Micro-benchmark: per-call overhead of a circuit breaker around an async call
// that succeeds at once, for the hand-written one (src/modules/wechat) and the
// two libraries it was weighed against. Prints ns per call over a bare call;
// judges nothing (machine shared: the figures are noisy). Run:
//   npx nest build && npm i --no-save cockatiel@4 opossum@10 && node bench/breaker.bench.mjs
// The libraries are not dependencies of the project; a missing one is skipped.
import { CircuitBreaker } from '../dist/src/infra/resilience/circuit-breaker.js';

const CALLS = Number(process.argv[2] ?? 200_000);
const ROUNDS = 5;
const call = () => Promise.resolve(1);
const never = () => false;

async function optional(name) {
  try {
    return await import(name);
  } catch {
    console.log(`${name}: not installed, skipped`);
    return undefined;
  }
}

const candidates = [['bare call (no breaker)', () => call()]];

const ours = new CircuitBreaker({ failureThreshold: 5, cooldownMs: 10_000 });
candidates.push(['hand-written CircuitBreaker', () => ours.run(call, never)]);

const cockatiel = await optional('cockatiel');
if (cockatiel) {
  const { circuitBreaker, handleWhen, ConsecutiveBreaker } = cockatiel;
  const policy = circuitBreaker(
    handleWhen(() => false),
    { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) },
  );
  candidates.push(['cockatiel 4 circuitBreaker', () => policy.execute(call)]);
}

const opossum = await optional('opossum');
if (opossum) {
  const Opossum = opossum.default;
  // timeout: false, as ours: axios owns the timeout. With opossum's default
  // (a timer per call) it costs more still.
  const breaker = new Opossum(call, {
    timeout: false,
    resetTimeout: 10_000,
    errorThresholdPercentage: 50,
    volumeThreshold: 5,
    errorFilter: () => true,
  });
  candidates.push(['opossum 10 (timeout off)', () => breaker.fire()]);
  const timed = new Opossum(call, { timeout: 5_000, resetTimeout: 10_000 });
  candidates.push(['opossum 10 (timeout 5 s)', () => timed.fire()]);
}

async function nsPerCall(fn) {
  // Batches of 100 in flight, as concurrent requests would be.
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i += 100) {
    const batch = new Array(100);
    for (let j = 0; j < 100; j++) batch[j] = fn();
    await Promise.all(batch);
  }
  return Number(process.hrtime.bigint() - start) / CALLS;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [, fn] of candidates) await nsPerCall(fn); // warm-up
const results = [];
for (const [label, fn] of candidates) {
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(await nsPerCall(fn));
  results.push([label, median(rounds)]);
}
const bare = results[0][1];
console.log(`${CALLS} calls x ${ROUNDS} rounds, median ns per call (overhead over a bare call):`);
for (const [label, ns] of results) {
  console.log(`  ${label.padEnd(30)} ${ns.toFixed(0).padStart(6)} ns  (+${(ns - bare).toFixed(0)} ns)`);
}
process.exit(0);
