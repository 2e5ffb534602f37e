/**
 * `npm run soak`: the built service under steady mixed traffic for SOAK_MINUTES (default 10), to see
 * whether memory or database connections creep. Starts dist/src/main.js against PostgreSQL
 * (SOAK_DATABASE_URL, or a fresh database on SOAK_SERVER_URL that is dropped afterwards), sends about
 * SOAK_RPS requests per second (default 50, at most SOAK_MAX_IN_FLIGHT at once), and every 10 s samples
 * the process RSS, the V8 heap in use (/api/metrics) and the database's connections
 * (pg_stat_activity). Prints one table and the first/last/max of each series. A script, not a test:
 * CI does not run it and nothing asserts its numbers.
 */
import { ChildProcess, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { freshDatabase, startBuiltService } from './support';

const ROOT = resolve(__dirname, '..');
const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const RPS = Number(process.env.SOAK_RPS ?? 50);
const MAX_IN_FLIGHT = Number(process.env.SOAK_MAX_IN_FLIGHT ?? 64);
const SAMPLE_MS = 10_000;
const SERVER_URL = process.env.SOAK_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ADMIN_TOKEN = randomBytes(32).toString('hex');
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}`, 'Content-Type': 'application/json' };

function log(message: string): void {
  process.stderr.write(`[soak] ${message}\n`);
}

function startService(databaseUrl: string): Promise<{ proc: ChildProcess; url: string }> {
  // Limits would turn the mix into 429s; the soak is about the service, not its limiters.
  return startBuiltService(ROOT, databaseUrl, ADMIN_TOKEN, {
    RATE_LIMIT_PER_KEY_PER_MINUTE: '0',
    RATE_LIMIT_KEY_MANAGEMENT_PER_MINUTE: '0',
    RATE_LIMIT_STRICT_PER_MINUTE: '0',
    MICA_RATE_LIMIT_PER_MINUTE: '0',
    MICA_RATE_LIMIT_PER_DAY: '0',
  });
}

async function api(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = admin) {
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : undefined };
}

interface Sample {
  minute: number;
  rssMb: number;
  heapMb: number;
  connections: number;
  requests: number;
  unexpected: number;
  p99Ms: number;
}

async function main(): Promise<void> {
  log(`building (tsc -p tsconfig.build.json)`);
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const db = await freshDatabase(SERVER_URL, 'trusset_soak', process.env.SOAK_DATABASE_URL);
  const pg = new Client({ connectionString: db.url });
  let service: { proc: ChildProcess; url: string } | undefined;
  try {
    service = await startService(db.url);
    const base = service.url;
    await pg.connect();

    // Data for every route of the mix: the hand-written ESMA fixtures, three instances, one MiCA developer.
    await api(base, 'POST', '/api/admin/mica/sync', { folder: resolve(ROOT, 'test/fixtures/esma/week1') });
    const instances: Array<{ ref: string; key: string }> = [];
    for (let i = 0; i < 3; i++) {
      const r = await api(base, 'POST', '/api/admin/instances', { name: `soak ${i}`, services: ['trading'] });
      instances.push({ ref: r.body.data.instance.instanceRef, key: r.body.data.key.key });
    }
    const dev = await api(
      base,
      'POST',
      '/api/mica/developer/register',
      { name: 'Soak Tester', email: `soak.${Date.now()}@example.com` },
      { 'Content-Type': 'application/json' },
    );
    const micaKey: string = dev.body.data.apiKey;

    let requests = 0;
    let unexpected = 0;
    let latencies: number[] = [];
    const unexpectedSeen = new Map<string, number>();
    const expectStatus = async (what: string, expected: number, run: () => Promise<{ status: number }>) => {
      const t0 = process.hrtime.bigint();
      let status: number;
      try {
        status = (await run()).status;
      } catch {
        status = -1;
      }
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      requests++;
      if (status !== expected) {
        unexpected++;
        const k = `${what} → ${status}`;
        unexpectedSeen.set(k, (unexpectedSeen.get(k) ?? 0) + 1);
      }
    };

    // A fixed, repeating mix (weights out of 20); the lifecycle step is three requests that leave
    // the instance's key count where it was: create, rotate with no overlap, revoke the successor.
    let tick = 0;
    const step = (i: number): Promise<void> => {
      const inst = instances[i % instances.length];
      const verify = (key: string, expected: number) =>
        expectStatus('verify', expected, () => api(base, 'GET', '/api/auth/verify?service=trading', undefined, { 'X-API-Key': key }));
      switch (i % 20) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4:
        case 5:
        case 6:
          return verify(inst.key, 200);
        case 7:
        case 8:
          return verify(`trusset_${inst.ref}_${randomBytes(32).toString('hex')}`, 401);
        case 9:
        case 10:
          return verify(`trusset_${inst.ref}_NOT-A-KEY`, 401);
        case 11:
        case 12:
          return expectStatus('mica health', 200, () => api(base, 'GET', '/api/mica/v1/health', undefined, { 'X-API-Key': micaKey }));
        case 13:
          return expectStatus('mica issuers', 200, () =>
            api(base, 'GET', '/api/mica/v1/issuers?licenseType=CASP&limit=20', undefined, { 'X-API-Key': micaKey }),
          );
        case 14:
          return expectStatus('mica search', 200, () =>
            api(base, 'GET', '/api/mica/v1/search?q=bank', undefined, { 'X-API-Key': micaKey }),
          );
        case 15:
          return expectStatus('admin instances', 200, () => api(base, 'GET', '/api/admin/instances?limit=20'));
        case 16:
          return expectStatus('admin keys', 200, () => api(base, 'GET', `/api/admin/instances/${inst.ref}/keys`));
        case 17:
          return expectStatus('admin events', 200, () => api(base, 'GET', `/api/admin/instances/${inst.ref}/events?limit=20`));
        default: {
          const keys = `/api/admin/instances/${inst.ref}/keys`;
          return (async () => {
            let id = '';
            await expectStatus('key create', 201, async () => {
              const r = await api(base, 'POST', keys, { name: 'soak' });
              id = r.body?.data?.id;
              return r;
            });
            if (!id) return;
            let successor = '';
            await expectStatus('key rotate', 201, async () => {
              const r = await api(base, 'POST', `${keys}/${id}/rotate`, { overlapSeconds: 0 });
              successor = r.body?.data?.id;
              return r;
            });
            if (successor) await expectStatus('key revoke', 200, () => api(base, 'POST', `${keys}/${successor}/revoke`));
          })();
        }
      }
    };

    const samples: Sample[] = [];
    const started = Date.now();
    const sample = async () => {
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${service!.proc.pid}/status`, 'utf8'));
      const metrics = await (await fetch(`${base}/api/metrics`)).text();
      const heap = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(metrics);
      const [{ n }] = (
        await pg.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [db.name])
      ).rows;
      const sorted = latencies.sort((a, b) => a - b);
      samples.push({
        minute: (Date.now() - started) / 60_000,
        rssMb: rss ? Number(rss[1]) / 1024 : NaN,
        heapMb: heap ? Number(heap[1]) / 1048576 : NaN,
        connections: n,
        requests,
        unexpected,
        p99Ms: sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] : 0,
      });
      latencies = [];
      const s = samples[samples.length - 1];
      log(
        `${s.minute.toFixed(1)} min: rss ${s.rssMb.toFixed(1)} MB, heap ${s.heapMb.toFixed(1)} MB, connections ${s.connections}, requests ${s.requests}, unexpected ${s.unexpected}`,
      );
    };

    log(`running ${MINUTES} min at ~${RPS} req/s against ${db.name}`);
    await sample();
    let inFlight = 0;
    let skipped = 0;
    const driver = setInterval(() => {
      if (inFlight >= MAX_IN_FLIGHT) return void skipped++;
      inFlight++;
      void step(tick++).finally(() => inFlight--);
    }, 1000 / RPS);
    const sampler = setInterval(() => void sample().catch((e) => log(`sample failed: ${e.message}`)), SAMPLE_MS);
    await new Promise((r) => setTimeout(r, MINUTES * 60_000));
    clearInterval(driver);
    clearInterval(sampler);
    while (inFlight > 0) await new Promise((r) => setTimeout(r, 50));
    await sample();

    const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
    const out = [
      row(['min', 'RSS MB', 'heap MB', 'DB conns', 'requests', 'unexpected', 'p99 ms (interval)']),
      row(['---', '---', '---', '---', '---', '---', '---']),
      ...samples.map((s) =>
        row([
          s.minute.toFixed(1),
          s.rssMb.toFixed(1),
          s.heapMb.toFixed(1),
          String(s.connections),
          String(s.requests),
          String(s.unexpected),
          s.p99Ms.toFixed(1),
        ]),
      ),
      '',
      row(['series', 'first', 'last', 'max']),
      row(['---', '---', '---', '---']),
      ...(['rssMb', 'heapMb', 'connections'] as const).map((k) => {
        const series = samples.map((s) => s[k]);
        return row([k, series[0].toFixed(1), series[series.length - 1].toFixed(1), Math.max(...series).toFixed(1)]);
      }),
      '',
      `${requests} requests in ${MINUTES} min (${(requests / (MINUTES * 60)).toFixed(1)} req/s), ${unexpected} unexpected, ${skipped} ticks skipped at ${MAX_IN_FLIGHT} in flight`,
      ...[...unexpectedSeen].map(([k, n]) => `  unexpected: ${k} ×${n}`),
    ];
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    if (service && service.proc.exitCode === null) {
      const exited = new Promise((r) => service!.proc.once('exit', r));
      service.proc.kill('SIGTERM');
      await exited;
    }
    await pg.end().catch(() => undefined);
    await db.drop();
  }
}

main().catch((e) => {
  log(`failed: ${(e as Error).stack ?? e}`);
  process.exit(1);
});
