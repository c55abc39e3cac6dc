import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { startFakeWechatPay, type FakeWechatPay } from './helpers/fake-wechat-pay.js';
import { exportedSeries, metricNames } from './helpers/promql.js';
import { useStack } from './helpers/stack.js';

const DIR = 'deploy/monitoring';
const PROM_CLIENT_LINT =
  /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;
const RULES = `${DIR}/alerts.rules.yml`;

interface RuleFile {
  groups: { name: string; rules: { alert: string; expr: string }[] }[];
}
interface Dashboard {
  panels: { title: string; targets?: { expr: string }[] }[];
}

const rules = (parse(readFileSync(RULES, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);
const dashboard = JSON.parse(readFileSync(`${DIR}/grafana-dashboard.json`, 'utf8')) as Dashboard;

// Debian's `prometheus` package ships it; .ci/run installs it when missing.
function promtool(args: string[], input?: string) {
  const run = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 30_000 });
  if (run.error) throw new Error(`promtool: ${run.error.message} (apt-get install prometheus)`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Names `expr` reads that the scrape does not declare. */
const missingIn = (series: Set<string>, expr: string) =>
  metricNames(expr).filter((name) => !series.has(name));

describe('alert rules and dashboard files', () => {
  it('promtool accepts the rules file', () => {
    const check = promtool(['check', 'rules', RULES]);
    expect(check.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(check.status).toBe(0);
  });

  it('every alert fires on its signal and stays quiet on its look-alike (promtool test rules)', () => {
    const run = promtool(['test', 'rules', `${DIR}/alerts.test.yml`]);
    expect(run.output).toContain('SUCCESS');
    expect(run.status).toBe(0);
  });

  it('covers the signals an operator must hear of during a sale', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'HighServerErrorRatio',
      'OutboxBacklogOld',
      'PaymentNotificationErrors',
      'PaymentNotificationsRefused',
      'QueueDeadLetters',
      'QueueJobsFailing',
      'ReadinessFlapping',
      'ReplicaRoutingFallback',
      'SlowRouteP99',
      'ThrottleRedisFallback',
      'WechatCircuitBreakerOpen',
      'WechatPayCircuitBreakerOpen',
      'WechatPushRefused',
      'WechatShippingReminder',
    ]);
  });

  it('finds the metric names of an expression, and reports one the scrape lacks', () => {
    const expr =
      'histogram_quantile(0.99, sum by (route, le) (rate(a_seconds_bucket{route!="/x", s=~"5.."}[5m]))) > 0.5 and on (route) sum(rate(b_total[$__rate_interval])) > 1 or vector(0)';
    expect(metricNames(expr).sort()).toEqual(['a_seconds_bucket', 'b_total']);
    const series = exportedSeries('# HELP a_seconds x\n# TYPE a_seconds histogram\n');
    expect(missingIn(series, expr)).toEqual(['b_total']);
  });
});

describe('every series the rules and the dashboard read exists in the real /metrics', () => {
  let pay: FakeWechatPay;
  beforeAll(async () => {
    pay = await startFakeWechatPay();
  });
  afterAll(() => pay.close());
  // MariaDB + Redis, WeChat Pay configured, jobs in this process: every family is registered.
  const stack = useStack({
    env: () => ({
      ...pay.env(),
      WECHAT_PAY_NOTIFY_URL: 'https://shop.example/api/v1/payments/wechat/notify',
      LOG_LEVEL: 'warn',
    }),
  });
  let exposition: string;
  beforeAll(async () => {
    await stack.app.http.get('/health/ready');
    const res = await stack.app.http.get('/metrics');
    expect(res.status).toBe(200);
    exposition = res.text;
  });

  it('parses with promtool check metrics, with no lint finding on our own series', () => {
    const check = promtool(['check', 'metrics'], exposition);
    // prom-client's default collectors name three gauges *_total; their names are not ours to change.
    const findings = check.output
      .split('\n')
      .filter((line) => line.trim() !== '' && !PROM_CLIENT_LINT.test(line));
    expect(findings).toEqual([]);
    // 0 clean, 3 lint findings only; 1 would be an exposition promtool cannot parse.
    expect([0, 3]).toContain(check.status);
  });

  it.each(rules.map((r) => [r.alert, r.expr] as const))(
    '%s reads only exported series',
    (_alert, expr) => {
      expect(metricNames(expr).length).toBeGreaterThan(0);
      expect(missingIn(exportedSeries(exposition), expr)).toEqual([]);
    },
  );

  it('the dashboard reads only exported series', () => {
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    const series = exportedSeries(exposition);
    expect(exprs.flatMap((e) => missingIn(series, e))).toEqual([]);
  });

  it('the readiness gauge reports the last probe', () => {
    expect(exposition).toMatch(/^health_ready 1$/m);
    expect(exposition).toMatch(/^throttle_redis_fallback_active 0$/m);
  });
});
