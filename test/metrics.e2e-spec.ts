import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInstance, TestInstance } from './support/instance-fixtures';
import { LIMITS_OUT_OF_REACH, startTestApp, TestApp } from './support/test-app';

/*
 * /api/metrics as Prometheus scrapes it: valid exposition (promtool check metrics, the linter CI
 * runs), the operational series of docs/metrics.md present and moving when their event happens,
 * and METRICS_TOKEN protecting the route when set.
 */
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const FIXTURES = join(__dirname, 'fixtures', 'esma', 'week1');

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Metrics', () => {
  let t: TestApp;
  let inst: TestInstance;
  const scrape = async () => (await t.http().get('/api/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200)).text;

  beforeAll(async () => {
    t = await startTestApp({
      ...LIMITS_OUT_OF_REACH,
      RATE_LIMIT_PER_KEY_PER_MINUTE: '2',
      METRICS_TOKEN,
      ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL } : {}),
    });
    inst = await createInstance(t, ['trading']);
  });
  afterAll(() => t.close());

  it('refuses a scrape without the METRICS_TOKEN (401 with a Bearer challenge) and a wrong one', async () => {
    const none = await t.http().get('/api/metrics').expect(401);
    expect(none.body.error.code).toBe('UNAUTHORIZED');
    expect(none.headers['www-authenticate']).toMatch(/^Bearer /);
    const wrong = await t.http().get('/api/metrics').set('Authorization', 'Bearer not-the-metrics-token-at-all').expect(401);
    expect(wrong.body.error.code).toBe('INVALID_TOKEN');
  });

  it('counts cache hits and misses, and refusals by limiter', async () => {
    const before = await scrape();
    const hits = value(before, 'trusset_key_cache_hits_total') ?? 0;
    const misses = value(before, 'trusset_key_cache_misses_total') ?? 0;
    const refused = value(before, 'trusset_rate_limit_refusals_total{limiter="instance-key"}') ?? 0;
    await t.http().get('/api/auth/verify').set('X-API-Key', inst.key).expect(200);
    await t.http().get('/api/auth/verify').set('X-API-Key', inst.key).expect(200);
    const third = await t.http().get('/api/auth/verify').set('X-API-Key', inst.key).expect(429);
    expect(third.headers['retry-after']).toEqual(expect.any(String));
    const after = await scrape();
    expect(value(after, 'trusset_key_cache_misses_total')).toBeGreaterThan(misses);
    expect(value(after, 'trusset_key_cache_hits_total')).toBeGreaterThanOrEqual(hits + 2);
    expect(value(after, 'trusset_rate_limit_refusals_total{limiter="instance-key"}')).toBe(refused + 1);
    expect(value(after, 'trusset_key_cache_entries{segment="found"}')).toBeGreaterThanOrEqual(1);
  });

  it('counts a request the client abandons before the answer', async () => {
    const before = value(await scrape(), 'http_requests_aborted_total{method="POST",route="unmatched"}') ?? 0;
    const { port } = (await t.app.listen(0, '127.0.0.1'), t.app.getHttpServer().address() as AddressInfo);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        // Promises 100 bytes of body, sends 2, then goes away: the body reader is still waiting.
        socket.write(
          `POST /api/admin/instances HTTP/1.1\r\nHost: x\r\nAuthorization: ${t.admin.Authorization}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"`,
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 200);
      });
      socket.on('error', reject);
    });
    for (let i = 0; i < 50; i++) {
      const now = value(await scrape(), 'http_requests_aborted_total{method="POST",route="unmatched"}') ?? 0;
      if (now === before + 1) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `the abandoned request was not counted: ${(await scrape())
        .split('\n')
        .filter((l) => l.includes('POST'))
        .join('\n')}`,
    );
  });

  it('counts register imports by register and outcome', async () => {
    await t.http().post('/api/admin/mica/sync').set(t.admin).send({ folder: FIXTURES }).expect(200);
    const text = await scrape();
    expect(text).toMatch(/trusset_mica_register_imports_total\{register="CASPS",outcome="(imported|unchanged)",trigger="admin"\} [1-9]/);
  });

  it('reports the pool, Redis and the invalidation channel', async () => {
    const text = await scrape();
    expect(value(text, 'trusset_db_pool_max_connections')).toBe(t.config.database.poolSize);
    expect(value(text, 'trusset_db_pool_connections{state="idle"}')).toEqual(expect.any(Number));
    expect(value(text, 'trusset_db_pool_connections{state="in_use"}')).toEqual(expect.any(Number));
    expect(value(text, 'trusset_db_pool_waiting_requests')).toEqual(expect.any(Number));
    expect(value(text, 'trusset_key_cache_suspended')).toEqual(expect.any(Number));
    expect(value(text, 'trusset_key_invalidation_listening')).toEqual(expect.any(Number));
    if (process.env.TEST_REDIS_URL) {
      expect(value(text, 'trusset_redis_up')).toBe(1);
      expect(value(text, 'trusset_rate_limit_fallback_active')).toBe(0);
    }
  });

  it('passes promtool check metrics', async () => {
    const text = await scrape();
    // promtool exits non-zero and names each problem; nothing printed means clean.
    const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(out.trim()).toBe('');
  });

  it('has every series the Grafana dashboard (docs/grafana-dashboard.json) queries, in valid PromQL', async () => {
    const text = await scrape();
    const dashboard = JSON.parse(readFileSync(join(__dirname, '..', 'docs', 'grafana-dashboard.json'), 'utf8')) as {
      panels: Array<{ targets: Array<{ expr: string }> }>;
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    const names = new Set(exprs.flatMap((e) => [...e.matchAll(/([a-z][a-z0-9_]*)\{job=~"\$job"/g)].map((m) => m[1])));
    expect(names.size).toBeGreaterThan(10);
    // Declared (a labelled counter has no sample before its first event, but always its TYPE line).
    // The Redis series exist only with REDIS_URL (a replica without Redis has nothing to report there).
    const redisOnly = new Set(['trusset_redis_up', 'trusset_rate_limit_fallback_active']);
    for (const name of names) {
      if (redisOnly.has(name) && !process.env.TEST_REDIS_URL) continue;
      expect({ name, declared: text.includes(`# TYPE ${name.replace(/_bucket$/, '')} `) }).toEqual({ name, declared: true });
    }
    // promtool parses every expression (as recording rules; the dashboard's $job variable as a regex).
    const dir = mkdtempSync(join(tmpdir(), 'trusset-dashboard-'));
    try {
      const rules = exprs
        .map((e, i) => `      - record: dashboard:expr${i}\n        expr: ${JSON.stringify(e.replace(/\$job/g, '.*'))}`)
        .join('\n');
      writeFileSync(join(dir, 'rules.yml'), `groups:\n  - name: dashboard\n    rules:\n${rules}\n`);
      execFileSync('promtool', ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves /api/metrics public when METRICS_TOKEN is unset', async () => {
    const open = await startTestApp(LIMITS_OUT_OF_REACH);
    try {
      const res = await open.http().get('/api/metrics').expect(200);
      expect(res.text).toContain('http_requests_total');
      expect(res.text).toContain('trusset_key_cache_hits_total');
    } finally {
      await open.close();
    }
  });
});
