/**
 * Monitoring as code: monitoring/alerts.yml passes `promtool check rules` (when promtool is
 * installed; .ci/run installs it), and every metric that the rules and the Grafana
 * dashboard name exists in a real connector's /metrics. The two metrics added for the
 * rules work: stuck movements are counted from the store at scrape time, and
 * reconciliation mismatches are counted when reported.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import type { Movement } from '../../src/adapters/store/store.js';
import { STUCK_AFTER_SECONDS } from '../../src/observability/stuck-movements.js';
import { ROOT } from '../helpers/processes.js';
import { startTestConnector, type TestConnector } from '../helpers/connector.js';

const RULES = join(ROOT, 'monitoring/alerts.yml');
const DASHBOARD = join(ROOT, 'monitoring/grafana-dashboard.json');
const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find(existsSync);

/** Metric names in PromQL expressions: the connector's and the Node process metrics. */
function metricNames(exprs: string[]): Set<string> {
  const names = new Set<string>();
  for (const expr of exprs) for (const m of expr.matchAll(/\b(?:connector|process|nodejs)_[a-z0-9_]+\b/g)) names.add(m[0]);
  return names;
}

function ruleExprs(): string[] {
  const doc = parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { expr: string }[] }[] };
  return doc.groups.flatMap((g) => g.rules.map((r) => r.expr));
}

function dashboardExprs(): string[] {
  const doc = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
  return doc.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

/** Series names the exposition can show: each metric, and a histogram's _bucket/_sum/_count. */
function exposed(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]!);
    if (m[2] === 'histogram' || m[2] === 'summary') for (const suffix of ['_bucket', '_sum', '_count']) names.add(m[1]! + suffix);
  }
  return names;
}

it.skipIf(!PROMTOOL)('alerts.yml passes promtool check rules', () => {
  const result = spawnSync(PROMTOOL!, ['check', 'rules', RULES], { encoding: 'utf8' });
  expect(result.status, result.stdout + result.stderr).toBe(0);
  expect(result.stdout).toMatch(/SUCCESS: 5 rules found/);
});

describe('metrics named by the rules and the dashboard', () => {
  let c: TestConnector;
  beforeAll(async () => {
    c = await startTestConnector();
    await c.signIn(); // a Verify call and a Kasisto request, so every family has series
  });
  afterAll(async () => {
    await c?.close();
  });
  afterEach(() => vi.restoreAllMocks());
  const scrape = async () => {
    const res = await c.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    return res.body;
  };

  it('every one exists in /metrics', async () => {
    const available = exposed(await scrape());
    const named = metricNames([...ruleExprs(), ...dashboardExprs()]);
    expect(named.size).toBeGreaterThan(8);
    expect([...named].filter((name) => !available.has(name))).toEqual([]);
  });

  it('each alert the issue asks for is there', () => {
    const named = metricNames(ruleExprs());
    for (const name of ['connector_verify_calls_total', 'connector_verify_circuit_state', 'connector_reconciliation_unexplained_mismatches', 'connector_movements_stuck_in_flight', 'connector_http_request_duration_seconds_bucket']) {
      expect(named.has(name), name).toBe(true);
    }
  });

  it('counts movements in flight and untouched past the threshold, at scrape time', async () => {
    expect(await scrape()).toMatch(/^connector_movements_stuck_in_flight 0$/m);
    const now = Date.now();
    const old = { id: 'mov_old', status: 'transfer_requested', updated_at: now - (STUCK_AFTER_SECONDS + 60) * 1000 } as Movement;
    const recent = { id: 'mov_new', status: 'session_created', updated_at: now - 10_000 } as Movement;
    vi.spyOn(c.ctx.store, 'listInFlightMovements').mockResolvedValue([old, recent, { ...old, id: 'mov_old2' }]);
    expect(await scrape()).toMatch(/^connector_movements_stuck_in_flight 2$/m);
  });

  it('shows the unexplained mismatches of the latest reconciliation report', async () => {
    const count = async () => Number(/^connector_reconciliation_unexplained_mismatches (\d+)$/m.exec(await scrape())?.[1]);
    expect(await count()).toBe(0);
    c.metrics.setReconciliationUnexplained(3);
    expect(await count()).toBe(3);
  });
});
