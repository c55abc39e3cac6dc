/**
 * Metric names an alert rule or a dashboard query reads, found by stripping
 * what is not a name (strings, label matchers, ranges, label lists of
 * by/on/without) and dropping functions, aggregations and keywords.
 */
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'Inf', 'NaN']);

export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w:.$])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    // Followed by a parenthesis: a function or an aggregation.
    if (match[2] !== undefined || KEYWORDS.has(match[1])) continue;
    names.add(match[1]);
  }
  return [...names];
}

/**
 * The series names a Prometheus text exposition declares (`# TYPE` lines),
 * with a histogram's or summary's _bucket/_sum/_count: a family with no
 * sample yet (a counter not incremented) still counts as exported.
 */
export function exportedSeries(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}
