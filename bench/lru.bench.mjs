// Micro-benchmark: lru-cache 11 beside the hand-written LRU it replaced in
// src/infra/cache (a Map re-inserted on each hit, bounded by entries and bytes)
// and beside the insertion-ordered bounded Map the token and session caches
// used. Same workload for each; prints ops/s, judges nothing.
//   node bench/lru.bench.mjs [--ops=2000000]
import { execFileSync } from 'node:child_process';
import { LRUCache } from 'lru-cache';

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ops = Number(arg('ops') ?? 2_000_000);
const CAPACITY = 10_000;

/** The LRU src/infra/cache/lru.ts had (kept here as the baseline). */
class MapLru {
  map = new Map();
  bytes = 0;
  constructor(maxEntries, maxBytes) {
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
  }
  get(key) {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }
  set(key, value) {
    this.delete(key);
    if (value.size > this.maxBytes) return;
    this.map.set(key, value);
    this.bytes += value.size;
    while (this.map.size > this.maxEntries || this.bytes > this.maxBytes) {
      this.delete(this.map.keys().next().value);
    }
  }
  delete(key) {
    const value = this.map.get(key);
    if (value === undefined) return false;
    this.map.delete(key);
    this.bytes -= value.size;
    return true;
  }
}

/** The bounded Map of access-tokens.ts / session-liveness.ts (oldest insert goes). */
class FifoMap {
  map = new Map();
  constructor(max) {
    this.max = max;
  }
  get(key) {
    return this.map.get(key);
  }
  set(key, value) {
    this.map.delete(key);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value);
    this.map.set(key, value);
  }
}

const sized = () =>
  new LRUCache({
    max: CAPACITY,
    maxSize: 64 * 1024 * 1024,
    sizeCalculation: (v) => v.size,
    dispose: () => undefined,
  });
const candidates = [
  ['L1: hand-written Map LRU (entries + bytes)', () => new MapLru(CAPACITY, 64 * 1024 * 1024)],
  ['L1: lru-cache (max + maxSize + dispose)', sized],
  ['bounded map: insertion-ordered Map', () => new FifoMap(CAPACITY)],
  ['bounded map: lru-cache (max)', () => new LRUCache({ max: CAPACITY })],
];

const keys = Array.from({ length: CAPACITY * 2 }, (_, i) => `product:${i}`);
const value = { size: 200, v: 'x' };
// A fixed pseudo-random sequence of hot keys (all resident), same for everyone.
const hot = Uint32Array.from({ length: 1 << 16 }, (_, i) => (i * 2654435761) % CAPACITY);

function rate(label, fn) {
  fn(ops / 10); // warm-up
  const start = performance.now();
  fn(ops);
  const perSec = Math.round(ops / ((performance.now() - start) / 1000));
  console.log(`${label.padEnd(58)} ${perSec.toLocaleString('en-US').padStart(13)} ops/s`);
}

// Each candidate in a process of its own, so none runs on code V8 optimized
// for another's shapes.
const only = arg('only');
if (only === undefined) {
  for (let i = 0; i < candidates.length; i++) {
    const args = [process.argv[1], `--only=${i}`, `--ops=${ops}`];
    process.stdout.write(execFileSync(process.execPath, args, { encoding: 'utf8' }));
  }
} else {
  const [name, make] = candidates[Number(only)];
  const cache = make();
  for (let i = 0; i < CAPACITY; i++) cache.set(keys[i], value);
  let sink = 0;
  rate(`${name}: get (hit)`, (n) => {
    for (let i = 0; i < n; i++) if (cache.get(keys[hot[i & 0xffff]]) !== undefined) sink++;
  });
  rate(`${name}: get (miss)`, (n) => {
    for (let i = 0; i < n; i++)
      if (cache.get(keys[CAPACITY + (i % CAPACITY)]) === undefined) sink++;
  });
  rate(`${name}: set (evicting)`, (n) => {
    for (let i = 0; i < n; i++) cache.set(keys[i % keys.length], value);
  });
  if (sink === 0) console.log('(nothing read)');
}
