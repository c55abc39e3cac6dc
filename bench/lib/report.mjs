// The result table, the JSON file and a hand-written SVG bar chart.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/** rows: [{ name, rps, p50, p99, non2xx, vsFastify, vsGin, vsCeiling, note }] */
export function printTable(rows) {
  const head = `${'scenario'.padEnd(40)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'non2xx'.padStart(7)} ${'/fastify'.padStart(8)} ${'/gin'.padStart(6)} ${'/ceiling'.padStart(8)}  note`;
  console.log(`\n${head}\n${'-'.repeat(head.length)}`);
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(40)} ${fmt(r.rps).padStart(9)} ${fmt(r.p50, 2).padStart(8)} ${fmt(r.p99, 2).padStart(8)} ${fmt(r.non2xx).padStart(7)} ${fmt(r.vsFastify, 2).padStart(8)} ${fmt(r.vsGin, 2).padStart(6)} ${fmt(r.vsCeiling, 2).padStart(8)}  ${r.note ?? ''}`,
    );
  }
}

/** The median of the finite values of `xs` (NaN when none). */
export function median(xs) {
  const sorted = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Rounds of one scenario as one row: median req/s and latencies, non-2xx summed. */
export function summarize(runs) {
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
  };
}

export function writeResults(dir, result) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'bench.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(dir, 'bench.svg'), chart(result));
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars of req/s, anchors in grey, with p99 and the ratio to the Gin anchor. */
export function chart(result) {
  const rows = result.rows.filter((r) => Number.isFinite(r.rps));
  const width = 900;
  const left = 300;
  const barH = 22;
  const gap = 8;
  const top = 50;
  const max = Math.max(...rows.map((r) => r.rps), 1);
  const scale = (width - left - 170) / max;
  const height = top + rows.length * (barH + gap) + 40;
  const bars = rows
    .map((r, i) => {
      const y = top + i * (barH + gap);
      const w = Math.max(1, r.rps * scale);
      const fill = r.anchor ? '#9e9e9e' : '#1976d2';
      const ratio = Number.isFinite(r.vsGin) ? ` · ${r.vsGin.toFixed(2)}× gin` : '';
      return [
        `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${esc(r.name)}</text>`,
        `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${fill}"/>`,
        `<text x="${(left + w + 6).toFixed(1)}" y="${y + 15}">${Math.round(r.rps)} req/s · p99 ${fmt(r.p99, 1)} ms${ratio}</text>`,
      ].join('');
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="22" font-size="15" font-weight="bold">${esc(result.title)}</text>
<text x="10" y="40" fill="#555">${esc(result.subtitle)}</text>
${bars}
<text x="10" y="${height - 12}" fill="#555">grey: anchors (same run); blue: this project. One core each (taskset -c 1), wrk on core 0.</text>
</svg>
`;
}
