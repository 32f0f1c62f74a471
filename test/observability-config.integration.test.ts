// The Prometheus, Alertmanager and Grafana files in deploy/ against the real
// Warden: the rules pass `promtool check rules`, the scrape config passes
// `promtool check config`, the Alertmanager config passes `amtool
// check-config` and routes Warden's alerts back to Warden, every metric a
// rule or a dashboard query names is in Warden's /metrics, and the dashboard
// uses the datasource its provisioning creates.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import type { TestApp } from './helpers/app.ts';
import { makeTestApp } from './helpers/app.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const rulesPath = `${root}deploy/prometheus/warden-rules.yml`;
const rules = parse(readFileSync(rulesPath, 'utf8')) as {
  groups: { rules: { alert: string; expr: string; labels: Record<string, string> }[] }[];
};
type Panel = {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
};
const dashboard = JSON.parse(
  readFileSync(`${root}deploy/grafana/dashboards/warden.json`, 'utf8'),
) as { uid: string; panels: Panel[] };

/**
 * The metric names a PromQL expression selects: identifiers that are not
 * functions, keywords, label names (in matchers or by/without/on/ignoring
 * lists), strings, durations or Grafana variables.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\$\{?\w+\}?/g, '5m')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
  const names = [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((n) => !keywords.has(n.toLowerCase()));
  return [...new Set(names)];
}

const promtool = spawnSync('promtool', ['--version']).status === 0;
const ruleExprs = rules.groups.flatMap((g) =>
  g.rules.map((r) => ({ name: r.alert, expr: r.expr })),
);
const panelExprs = dashboard.panels.flatMap((p) =>
  (p.targets ?? []).map((t) => ({ name: p.title, expr: t.expr })),
);

describe('deploy/prometheus', () => {
  it.skipIf(!promtool)(
    'rules pass promtool check rules (skipped without promtool: apt install prometheus)',
    () => {
      const r = spawnSync('promtool', ['check', 'rules', rulesPath], { encoding: 'utf8' });
      expect({ code: r.status, err: r.stderr }).toEqual({ code: 0, err: '' });
      expect(r.stdout).toContain(`SUCCESS: ${ruleExprs.length} rules found`);
    },
  );

  it.skipIf(!promtool)(
    'the scrape config passes promtool check config (skipped without promtool)',
    () => {
      const r = spawnSync(
        'promtool',
        ['check', 'config', '--syntax-only', `${root}deploy/prometheus/prometheus.yml`],
        { encoding: 'utf8' },
      );
      expect({ code: r.status, err: r.stderr }).toEqual({ code: 0, err: '' });
    },
  );

  it('has the alerts the operators asked for, labelled to come back to Warden as incidents', () => {
    const names = ruleExprs.map((r) => r.name);
    for (const alert of [
      'WardenDown',
      'WardenQueueGrowing',
      'WardenSuccessRateFalling',
      'WardenNeedsAttention',
      'WardenBackupLate',
      'WardenModelServerDown',
    ])
      expect(names).toContain(alert);
    for (const g of rules.groups)
      for (const r of g.rules)
        expect({ alert: r.alert, labels: r.labels }).toEqual({
          alert: r.alert,
          labels: { severity: expect.stringMatching(/^(critical|warning)$/), service: 'warden' },
        });
  });
});

// amtool is in Debian's prometheus-alertmanager package.
const amtool = spawnSync('amtool', ['--version']).status === 0;

describe('deploy/alertmanager', () => {
  const config = `${root}deploy/alertmanager/alertmanager.yml`;

  it.skipIf(!amtool)(
    'passes amtool check-config and sends every Warden alert back to Warden (skipped without amtool: apt install prometheus-alertmanager)',
    () => {
      const check = spawnSync('amtool', ['check-config', config], { encoding: 'utf8' });
      expect({ code: check.status, err: check.stderr }).toEqual({ code: 0, err: '' });
      const receivers = (labels: string[]) =>
        spawnSync('amtool', ['config', 'routes', 'test', `--config.file=${config}`, ...labels], {
          encoding: 'utf8',
        }).stdout.trim();
      for (const { name } of ruleExprs) {
        const got = receivers([`alertname=${name}`, 'service=warden']).split(',');
        expect({ name, warden: got.includes('warden') }).toEqual({ name, warden: true });
      }
      // Warden being down also reaches a channel that does not need Warden.
      expect(receivers(['alertname=WardenDown', 'service=warden'])).toBe('warden,people');
    },
  );

  it("posts to Warden's Alertmanager endpoint with a bearer token from a file", () => {
    const am = parse(readFileSync(config, 'utf8')) as {
      receivers: {
        name: string;
        webhook_configs?: {
          url: string;
          send_resolved: boolean;
          http_config: { authorization: { credentials_file: string } };
        }[];
      }[];
    };
    const hook = am.receivers.find((r) => r.name === 'warden')!.webhook_configs![0]!;
    expect(hook.url).toBe('http://warden-main:5678/api/v1/alerts/alertmanager');
    expect(hook.send_resolved).toBe(true);
    expect(hook.http_config.authorization.credentials_file).toMatch(/^\/etc\/alertmanager\//);
  });
});

describe('deploy/grafana', () => {
  it('queries the datasource its provisioning creates, and is loaded from where Compose mounts it', () => {
    const ds = parse(
      readFileSync(`${root}deploy/grafana/provisioning/datasources/prometheus.yml`, 'utf8'),
    ) as { datasources: { uid: string; url: string }[] };
    const uid = ds.datasources[0]!.uid;
    expect(ds.datasources[0]!.url).toBe('http://prometheus:9090');
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
      expect({ panel: p.title, uid: p.datasource?.uid }).toEqual({ panel: p.title, uid });
      for (const t of p.targets ?? []) expect(t.datasource?.uid).toBe(uid);
    }
    const provider = parse(
      readFileSync(`${root}deploy/grafana/provisioning/dashboards/warden.yml`, 'utf8'),
    ) as { providers: { options: { path: string } }[] };
    const compose = readFileSync(`${root}deploy/docker-compose.yml`, 'utf8');
    expect(compose).toContain(`./grafana/dashboards:${provider.providers[0]!.options.path}:ro`);
  });

  it('covers executions, latencies, the queue, models, incidents and backups', () => {
    const all = panelExprs.map((p) => p.expr).join('\n');
    for (const metric of [
      'warden_executions_ended_total',
      'warden_execution_duration_seconds_bucket',
      'warden_http_request_duration_seconds_bucket',
      'warden_executions',
      'warden_build_info',
      'warden_llm_tokens_total',
      'warden_llm_errors_total',
      'warden_incidents',
      'warden_heal_outcomes_total',
      'warden_backup_newest_timestamp_seconds',
    ])
      expect(metricNames(all)).toContain(metric);
    expect(all).toMatch(/histogram_quantile\(0\.95/);
    expect(all).toMatch(/histogram_quantile\(0\.5,/);
  });
});

describe('metric names in rules and dashboards', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp('postgres');
  });
  afterAll(() => t?.close());

  it('are read from PromQL without functions, label names, strings or durations', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, role) (rate(a_bucket{outcome="ok",x=~"b.*"}[$__rate_interval]))) / ignoring(x) b_total offset 5m > bool 1 and time() - c',
      ),
    ).toEqual(['a_bucket', 'b_total', 'c']);
  });

  it('all exist in the real /metrics of Warden', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: await t.keyFor('viewer'),
    });
    expect(res.statusCode).toBe(200);
    // A family is there with its TYPE line even before its first sample;
    // a histogram's series are its name with _bucket, _sum and _count.
    const families = new Map(
      [...res.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]),
    );
    const exists = (name: string) => {
      if (families.has(name)) return true;
      const h = /^(.*)_(bucket|sum|count)$/.exec(name);
      return h !== null && families.get(h[1]!) === 'histogram';
    };
    // `up` is Prometheus's own, one per scrape target.
    const fromPrometheus = new Set(['up']);
    const missing = [...ruleExprs, ...panelExprs].flatMap(({ name, expr }) =>
      metricNames(expr)
        .filter((m) => !fromPrometheus.has(m) && !exists(m))
        .map((m) => `${name}: ${m}`),
    );
    expect(missing).toEqual([]);
    expect(exists('warden_not_a_metric')).toBe(false);
  });
});
