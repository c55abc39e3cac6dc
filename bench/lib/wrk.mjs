// wrk runner (pinned to CPU 0) and its output parser. Asynchronous on purpose:
// the fake WeChat in this process must keep answering while wrk runs.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const MS = { us: 0.001, ms: 1, s: 1000, m: 60_000 };
/** "1.23ms" → 1.23 (milliseconds). */
export function toMs(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text ?? '');
  return m ? Number(m[1]) * MS[m[2]] : NaN;
}

/** The figures of one wrk --latency run. */
export function parseWrk(out) {
  const pct = (p) => toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    p50: pct(50),
    p99: pct(99),
    requests,
    non2xx,
    socketErrors: socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

/**
 * One measured wrk run after a warm-up (JIT, pools, caches).
 * opts: url, seconds, connections (64), warmupSeconds (2), headers {}, script (Lua source).
 */
export async function wrk({ url, seconds, connections = 64, warmupSeconds = 2, headers = {}, script }) {
  const args = ['-c', '0', 'wrk', '-t1', `-c${connections}`];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  if (script) {
    const file = join(tmpdir(), `bench-${process.pid}-${Math.random().toString(36).slice(2)}.lua`);
    writeFileSync(file, script);
    args.push('-s', file);
  }
  const opts = { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: (seconds + warmupSeconds + 30) * 1000 };
  if (warmupSeconds > 0) await run('taskset', [...args, `-d${warmupSeconds}s`, url], opts);
  const { stdout } = await run('taskset', [...args, `-d${seconds}s`, '--latency', url], opts);
  return parseWrk(stdout);
}

/** Lua: GET base..path(i) with i drawn uniformly from 1..n. */
export function randomPathScript(prefix, n) {
  return `math.randomseed(os.time())
request = function()
  return wrk.format("GET", "${prefix}" .. math.random(1, ${n}))
end
`;
}

/** Lua: POST a JSON body built from a counter (e.g. distinct login codes). */
export function postCounterScript(bodyBefore, bodyAfter, extraHeaders = {}) {
  const headers = Object.entries({ 'Content-Type': 'application/json', ...extraHeaders })
    .map(([k, v]) => `wrk.headers["${k}"] = "${v}"`)
    .join('\n');
  return `local n = 0
wrk.method = "POST"
${headers}
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '${bodyBefore}' .. n .. '${bodyAfter}')
end
`;
}

/**
 * Seconds of POST /orders before its measured rounds: its first 5,000 or so
 * orders run at half the later rate while V8 compiles the path (every first
 * round after a 2 s warm-up was), and the rounds measure a warm replica.
 */
export const ORDERS_WARMUP_S = 10;

/**
 * Lua: POST /orders as one signed-in user, a one-line order of a random
 * product among the first `products`, a new Idempotency-Key each. Every wrk
 * process draws its own key prefix: a warm-up and the measured run given this
 * one script would otherwise replay each other's keys with other bodies (409s).
 */
export function ordersScript(accessToken, products = 100) {
  return `local n = 0
local urandom = io.open("/dev/urandom", "rb")
local run = urandom:read(6):gsub(".", function(c) return string.format("%02x", c:byte()) end)
urandom:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${accessToken}"
math.randomseed(os.time())
request = function()
  n = n + 1
  wrk.headers["Idempotency-Key"] = "bench-" .. run .. "-" .. n
  return wrk.format(nil, nil, nil, '{"items":[{"productId":' .. math.random(1, ${products}) .. ',"quantity":1}]}')
end
`;
}

/**
 * Lua: rotates over a file of lines, one request per line; each line is
 * "METHOD PATH [TOKEN]" (a token adds the bearer header).
 */
export function linesScript(file) {
  // Built in init(): wrk sets the Host header only after the script's top level ran.
  return `local reqs = {}
local i = 0
function init(args)
  for line in io.lines("${file}") do
    local m, p, t = line:match("^(%S+) (%S+) ?(%S*)$")
    local h = {}
    if t ~= "" then h["Authorization"] = "Bearer " .. t end
    reqs[#reqs + 1] = wrk.format(m, p, h)
  end
  math.randomseed(os.time())
  i = math.random(0, #reqs - 1)
end
request = function()
  i = (i % #reqs) + 1
  return reqs[i]
end
`;
}
