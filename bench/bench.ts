/**
 * `npm run bench`: the targets of issue #13, measured on this machine in one run and printed as one
 * table of ratios with their targets. Every server is its own process: the bare node:http check
 * (built here from a few lines, no project code: the ceiling a key check can reach), the built
 * service (dist/, against PostgreSQL: BENCH_DATABASE_URL, or a fresh database on BENCH_SERVER_URL
 * that is dropped afterwards), a tiny upstream API, and nginx and Caddy started from the recipes in
 * deploy/ with their own config and prefix (rows skipped with a message when absent). autocannon
 * drives them from this process. Each comparison alternates its two sides over BENCH_ROUNDS rounds
 * of BENCH_SECONDS and reports the medians, so drift in the machine's load hits both sides. A
 * script, not a test: CI does not run it and nothing asserts a timing.
 */
import { ChildProcess, execSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { INSTANCE_KEY_LOOKUP } from '../src/auth/instance-key.verifier';
import { CADDY, freePort, Gateway, NGINX, startCaddy, startNginx } from './gateways';
import { freshDatabase, startBuiltService } from './support';

const ROOT = resolve(__dirname, '..');
const ADMIN_TOKEN = randomBytes(32).toString('hex');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 50;
const SERVER_URL = process.env.BENCH_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/15';
const UNLIMITED = '1000000000';
/** BENCH_ONLY=verify,flood,…: run only these sections (verify, routes, malformed, flood, gateways, redis); all by default. */
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim())) : undefined;
const only = (section: string) => !ONLY || ONLY.has(section);

interface Proc {
  url: string;
  proc: ChildProcess;
  maxRssMb: number;
  sampler: NodeJS.Timeout;
}

interface Measure {
  rps: number;
  p99: number;
  non2xx: number;
  errors: number;
}

type Row = { name: string; result: string; p99: string; ratio: string; target: string; met: string };
const rows: Row[] = [];

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function track(proc: ChildProcess, url: string): Proc {
  const p: Proc = { url, proc, maxRssMb: 0, sampler: setInterval(() => sample(p), 250) };
  return p;
}

function sample(p: Proc): void {
  try {
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.proc.pid}/status`, 'utf8'));
    if (rss) p.maxRssMb = Math.max(p.maxRssMb, Number(rss[1]) / 1024);
  } catch {
    /* process gone */
  }
}

async function startService(databaseUrl: string, env: Record<string, string> = {}): Promise<Proc> {
  const { proc, url } = await startBuiltService(ROOT, databaseUrl, ADMIN_TOKEN, {
    RATE_LIMIT_PER_KEY_PER_MINUTE: UNLIMITED,
    RATE_LIMIT_KEY_MANAGEMENT_PER_MINUTE: UNLIMITED,
    RATE_LIMIT_STRICT_PER_MINUTE: UNLIMITED,
    MICA_RATE_LIMIT_PER_MINUTE: UNLIMITED,
    MICA_RATE_LIMIT_PER_DAY: UNLIMITED,
    DATABASE_POOL_SIZE: '20',
    ...env,
  });
  return track(proc, url);
}

/**
 * The least a key check can do, on bare node:http: the format regex, SHA-256 of the header, one Map
 * lookup, the JSON envelope with a request id and a timestamp (200 with the identity, else 401).
 */
const BARE_CHECK = `
const http = require('node:http');
const crypto = require('node:crypto');
const FORMAT = /^trusset_([A-Za-z0-9]{8})_[0-9a-f]{64}$/;
const known = new Map([[process.env.DIGEST, JSON.parse(process.env.IDENTITY)]]);
http.createServer((req, res) => {
  const key = req.headers['x-api-key'];
  const identity = typeof key === 'string' && FORMAT.test(key) ? known.get(crypto.createHash('sha256').update(key).digest('hex')) : undefined;
  const metadata = { requestId: crypto.randomUUID(), timestamp: new Date().toISOString() };
  const body = identity
    ? JSON.stringify({ success: true, data: identity, metadata })
    : JSON.stringify({ success: false, error: { code: 'AUTH_FAILED', message: 'Authentication failed.' }, metadata });
  res.writeHead(identity ? 200 : 401, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('listening\\n'));
`;

/** The platform API behind the gateways: a fixed small JSON answer. */
const UPSTREAM = `
const http = require('node:http');
const body = JSON.stringify({ success: true, data: { orders: [] } });
http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('listening\\n'));
`;

async function startScript(source: string, env: Record<string, string>): Promise<Proc> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['-e', source], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolvePromise, reject) => {
    proc.stdout.once('data', () => resolvePromise());
    proc.once('exit', (code) => reject(new Error(`script exited with ${code}`)));
  });
  return track(proc, `http://127.0.0.1:${port}`);
}

async function stop(p: Proc): Promise<void> {
  clearInterval(p.sampler);
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  p.proc.kill('SIGTERM');
  await new Promise((r) => p.proc.once('exit', r));
}

/** `T`: the fields of the answer's `data` the caller reads. */
async function api<T = unknown>(server: Proc, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(server.url + path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await res.json()) as { data?: T; error?: unknown };
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.error)}`);
  return json.data as T;
}

/** An issued instance key as the admin API answers it (the fields the bench reads). */
interface IssuedKey {
  id: string;
  key: string;
}

/** A made-up key: under a made-up instance ref (what a scanner sends), or under `ref` (an attacker who knows one). */
function unknownKey(ref = 'Zz9Yy8Xx'): string {
  return `trusset_${ref}_${randomBytes(32).toString('hex')}`;
}

interface RunOptions {
  connections?: number;
  seconds?: number;
  /** A new made-up key per request; a string: under that instance ref. */
  randomKey?: boolean | string;
  amount?: number;
}

async function run(url: string, headers: Record<string, string>, opts: RunOptions = {}): Promise<Measure> {
  const result = await autocannon({
    url,
    connections: opts.connections ?? CONNECTIONS,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.seconds ?? SECONDS }),
    headers,
    requests: opts.randomKey
      ? [
          {
            setupRequest: (req: autocannon.Request) => ({
              ...req,
              headers: { ...req.headers, 'x-api-key': unknownKey(typeof opts.randomKey === 'string' ? opts.randomKey : undefined) },
            }),
          },
        ]
      : undefined,
  });
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Both sides, alternating which goes first, ROUNDS times; the medians of each. */
async function alternate(label: string, a: () => Promise<Measure>, b: () => Promise<Measure>): Promise<[Measure, Measure]> {
  const as: Measure[] = [];
  const bs: Measure[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      as.push(await a());
      bs.push(await b());
    } else {
      bs.push(await b());
      as.push(await a());
    }
    log(`${label} round ${r + 1}: ${fmt(as[r])} | ${fmt(bs[r])}`);
  }
  const pick = (ms: Measure[]): Measure => ({
    rps: median(ms.map((m) => m.rps)),
    p99: median(ms.map((m) => m.p99)),
    non2xx: ms.reduce((s, m) => s + m.non2xx, 0),
    errors: ms.reduce((s, m) => s + m.errors, 0),
  });
  return [pick(as), pick(bs)];
}

const fmt = (m: Measure) => `${Math.round(m.rps)} req/s p99 ${m.p99} ms${m.errors ? ` errors ${m.errors}` : ''}`;
const x = (v: number) => `${v.toFixed(2)}×`;
const reqs = (m: Measure) => `${Math.round(m.rps).toLocaleString('en')} req/s`;

function row(name: string, m: Measure | string, ratio = '', target = '', met?: boolean): void {
  const r: Row = {
    name,
    result: typeof m === 'string' ? m : reqs(m),
    p99: typeof m === 'string' ? '' : `${m.p99} ms`,
    ratio,
    target,
    met: met === undefined ? '' : met ? 'met' : '**missed**',
  };
  rows.push(r);
  log(`${name}: ${r.result} ${r.p99} ${ratio} ${target} ${r.met}`);
}

/** A side of the table that could not run (nginx or Caddy absent, Redis down). */
function skipped(name: string, why: string, target = ''): void {
  rows.push({ name, result: `skipped: ${why}`, p99: '', ratio: '', target, met: '' });
  log(`${name}: skipped (${why})`);
}

async function redisReachable(url: string): Promise<boolean> {
  const { default: Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

async function propagation(a: Proc, b: Proc, instanceRef: string): Promise<number[]> {
  const delays: number[] = [];
  for (let i = 0; i < 10; i++) {
    const created = await api<IssuedKey>(a, 'POST', `/api/admin/instances/${instanceRef}/keys`, { name: `prop${i}` });
    const headers = { 'X-API-Key': created.key };
    for (let w = 0; w < 3; w++) await fetch(`${b.url}/api/auth/verify`, { headers });
    const t0 = process.hrtime.bigint();
    await api(a, 'POST', `/api/admin/instances/${instanceRef}/keys/${created.id}/revoke`);
    for (;;) {
      const res = await fetch(`${b.url}/api/auth/verify`, { headers });
      if (res.status === 401) break;
      if (Number(process.hrtime.bigint() - t0) / 1e6 > 5000) throw new Error('revocation not seen by the other replica within 5 s');
    }
    delays.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return delays.sort((p, q) => p - q);
}

/** Waits until at least `seconds` are left in the current minute window (the limiter's windows are epoch-aligned). */
async function roomInMinute(seconds: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < seconds * 1000) await new Promise((r) => setTimeout(r, left + 50));
}

/** Adds revoked keys (under a filler instance) until instance_keys holds `total` rows. */
async function fillKeys(db: Client, total: number): Promise<void> {
  const [{ n }] = (await db.query('SELECT count(*)::int AS n FROM instance_keys')).rows;
  if (n >= total) return;
  const [{ id }] = (
    await db.query(
      `INSERT INTO instances (ref, name, services, status) VALUES (substr(md5(random()::text), 1, 8), 'bench filler', '{}', 'ARCHIVED') RETURNING id`,
    )
  ).rows;
  for (let done = n; done < total; done += 100_000) {
    await db.query(
      `INSERT INTO instance_keys (instance_id, name, key_digest, key_prefix, key_hint, status, revoked_at)
       SELECT $1, 'filler', sha256(convert_to(gen_random_uuid()::text || g::text, 'UTF8')), 'trusset_filler', 'xxxx', 'REVOKED', now()
         FROM generate_series(1, $2) AS g`,
      [id, Math.min(100_000, total - done)],
    );
  }
  await db.query('ANALYZE instance_keys');
}

async function lookupMs(db: Client, key: string): Promise<number> {
  const digests = [createHash('sha256').update(key).digest()];
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 2000; i++) await db.query(INSTANCE_KEY_LOOKUP, [digests]);
  return Number(process.hrtime.bigint() - t0) / 1e6 / 2000;
}

async function main(): Promise<void> {
  log('building');
  execSync('npx nest build', { cwd: ROOT, stdio: 'inherit' });
  const database = await freshDatabase(SERVER_URL, 'trusset_bench', process.env.BENCH_DATABASE_URL);
  const db = new Client({ connectionString: database.url });
  const procs: Proc[] = [];
  const gateways: Gateway[] = [];
  try {
    const service = await startService(database.url);
    procs.push(service);
    await db.connect();
    const created = await api<{ instance: { id: string; instanceRef: string }; key: IssuedKey }>(service, 'POST', '/api/admin/instances', {
      name: 'bench',
      services: ['trading'],
    });
    const instanceRef: string = created.instance.instanceRef;
    const key: string = created.key.key;
    const identity = { instanceRef, instanceId: created.instance.id, keyId: created.key.id, keyStatus: 'ACTIVE', services: ['trading'] };
    const mica = await api<{ apiKey: string }>(service, 'POST', '/api/mica/developer/register', {
      name: 'Bench',
      email: `bench-${Date.now()}@example.com`,
    });
    const bare = await startScript(BARE_CHECK, {
      DIGEST: createHash('sha256').update(key).digest('hex'),
      IDENTITY: JSON.stringify(identity),
    });
    procs.push(bare);
    const verifyUrl = `${service.url}/api/auth/verify?service=trading`;
    const valid = { 'X-API-Key': key };

    log('warming up');
    await run(bare.url, valid, { seconds: 2 });
    await run(verifyUrl, valid, { seconds: 3 });

    if (only('verify')) {
      // 1. The verify route, cached valid key, against the bare check.
      const [ceiling, cached] = await alternate(
        'verify',
        () => run(bare.url, valid),
        () => run(verifyUrl, valid),
      );
      row('bare node:http check, valid key (ceiling)', ceiling, '1.00×');
      const verifyRatio = cached.rps / ceiling.rps;
      const p99Ratio = (cached.p99 || 1) / (ceiling.p99 || 1);
      row(
        'GET /api/auth/verify, cached valid key',
        cached,
        `${x(verifyRatio)} rps, ${x(p99Ratio)} p99`,
        '≥ 0.60× rps, ≤ 2× p99',
        verifyRatio >= 0.6 && p99Ratio <= 2,
      );
    }

    if (only('routes')) {
      // 2. Routes reported against the same ceiling: MiCA key check, a management route.
      const [ceilingM, micaRun] = await alternate(
        'mica',
        () => run(bare.url, valid),
        () => run(`${service.url}/api/mica/v1/health`, { 'X-API-Key': mica.apiKey }),
      );
      row(
        'GET /api/mica/v1/health, MiCA key',
        micaRun,
        `${x(micaRun.rps / ceilingM.rps)} rps, ${x((micaRun.p99 || 1) / (ceilingM.p99 || 1))} p99`,
        'reported',
      );
      const [ceilingK, keysRun] = await alternate(
        'keys',
        () => run(bare.url, valid),
        () => run(`${service.url}/api/keys`, valid),
      );
      row(
        'GET /api/keys (management, database read)',
        keysRun,
        `${x(keysRun.rps / ceilingK.rps)} rps, ${x((keysRun.p99 || 1) / (ceilingK.p99 || 1))} p99`,
        'reported',
      );
    }

    if (only('malformed')) {
      // 3. Malformed keys never reach the database.
      const stats = async () =>
        Number(
          (await db.query('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0].n,
        );
      // The counter also moves with the service's background work (usage flush, the listener's
      // heartbeat) and this bench's own statements: the same span idle is the baseline.
      let before = await stats();
      await new Promise((r) => setTimeout(r, 3000));
      const idle = (await stats()) - before;
      before = await stats();
      const malformed = await run(verifyUrl, { 'X-API-Key': 'trusset_short_key' }, { seconds: 3 });
      const dbWork = (await stats()) - before;
      const malformedRequests = Math.round(malformed.rps * 3);
      row(
        'malformed key (401): database transactions in 3 s',
        malformed,
        `${dbWork} under ${malformedRequests.toLocaleString('en')} requests, ${idle} idle`,
        'none added by the requests',
        dbWork - idle < malformedRequests / 1000,
      );
    }

    if (only('flood')) {
      // 4. An unknown-key flood, against the bare check answering unknown keys.
      const [ceilingU, flood] = await alternate(
        'flood',
        () => run(bare.url, {}, { randomKey: true }),
        () => run(verifyUrl, {}, { randomKey: true }),
      );
      row('bare check, unknown keys (ceiling)', ceilingU, '1.00×');
      row('unknown-key flood (401)', flood, x(flood.rps / ceilingU.rps), '≥ 0.50×', flood.rps / ceilingU.rps >= 0.5);
      // The same flood under the real instance's ref: no ref is known absent, so every key costs a (batched) lookup.
      const [ceilingR, floodReal] = await alternate(
        'flood, real ref',
        () => run(bare.url, {}, { randomKey: true }),
        () => run(verifyUrl, {}, { randomKey: instanceRef }),
      );
      row('unknown-key flood under a real instance ref (401)', floodReal, x(floodReal.rps / ceilingR.rps), 'reported');
      const [alone, during] = await alternate(
        'valid during flood',
        () => run(verifyUrl, valid, { connections: 10 }),
        async () =>
          (await Promise.all([run(verifyUrl, valid, { connections: 10 }), run(verifyUrl, {}, { connections: 40, randomKey: true })]))[0],
      );
      const floodP99 = (during.p99 || 1) / (alone.p99 || 1);
      row('valid key p99 during the flood vs alone', `${during.p99} ms vs ${alone.p99} ms`, x(floodP99), '≤ 2×', floodP99 <= 2);
      // The same under a real instance's ref: every flood key is looked up, and the 401s yield to admitted requests instead.
      const [aloneR, duringR] = await alternate(
        'valid during flood, real ref',
        () => run(verifyUrl, valid, { connections: 10 }),
        async () =>
          (
            await Promise.all([run(verifyUrl, valid, { connections: 10 }), run(verifyUrl, {}, { connections: 40, randomKey: instanceRef })])
          )[0],
      );
      const floodP99R = (duringR.p99 || 1) / (aloneR.p99 || 1);
      row(
        'valid key p99 during a flood under a real instance ref vs alone',
        `${duringR.p99} ms vs ${aloneR.p99} ms`,
        x(floodP99R),
        'reported',
      );
    }

    if (only('gateways')) {
      // 5. Through nginx and Caddy: the recipe against the same gateway proxying with no check.
      const upstream = await startScript(UPSTREAM, {});
      procs.push(upstream);
      const keysHost = new URL(service.url).host;
      const upstreamHost = new URL(upstream.url).host;
      const path = '/api/trading/v1/orders';
      for (const [name, binary, start, target] of [
        ['nginx', NGINX, startNginx, 0.5],
        ['caddy', CADDY, startCaddy, undefined],
      ] as const) {
        if (!binary) {
          skipped(
            `${name} → auth → upstream vs ${name} → upstream`,
            `${name} is not installed`,
            target ? `≥ ${target.toFixed(2)}×` : 'reported',
          );
          continue;
        }
        const plain = await start(keysHost, upstreamHost, { plainProxy: true });
        gateways.push(plain);
        const checked = await start(keysHost, upstreamHost);
        gateways.push(checked);
        await run(checked.url + path, valid, { seconds: 2 });
        const [p, c] = await alternate(
          name,
          () => run(plain.url + path, valid),
          () => run(checked.url + path, valid),
        );
        row(`${name} → upstream, no check`, p, '1.00×');
        const r = c.rps / p.rps;
        row(
          `${name} → key check (recipe) → upstream`,
          c,
          x(r),
          target ? `≥ ${target.toFixed(2)}×` : 'reported',
          target ? r >= target : undefined,
        );
        // The recipe's own ceiling: the same recipe with the bare check standing in for the key service.
        const withBare = await start(new URL(bare.url).host, upstreamHost);
        gateways.push(withBare);
        const [p2, b] = await alternate(
          `${name}, bare check`,
          () => run(plain.url + path, valid),
          () => run(withBare.url + path, valid),
        );
        row(`${name} → bare check (recipe) → upstream`, b, x(b.rps / p2.rps), 'reported');
        await plain.stop();
        await checked.stop();
        await withBare.stop();
      }
    }

    if (only('redis')) {
      // 6. With REDIS_URL: the verify ratio, and the per-key limit across two replicas.
      const limit = 2000;
      const batch = 10;
      if (await redisReachable(REDIS_URL)) {
        const redisService = await startService(database.url, { REDIS_URL });
        procs.push(redisService);
        await run(`${redisService.url}/api/auth/verify?service=trading`, valid, { seconds: 2 });
        const [ceilingR, withRedis] = await alternate(
          'redis',
          () => run(bare.url, valid),
          () => run(`${redisService.url}/api/auth/verify?service=trading`, valid),
        );
        const rr = withRedis.rps / ceilingR.rps;
        row('GET /api/auth/verify with REDIS_URL, cached valid key', withRedis, x(rr), '≥ 0.50×', rr >= 0.5);

        // Revocation seen by another replica (both on the same database).
        const delays = await propagation(service, redisService, instanceRef);
        row(
          'revocation seen by another replica',
          `median ${delays[5].toFixed(1)} ms, max ${delays[9].toFixed(1)} ms`,
          `${(delays[9] / 1000).toFixed(3)} s`,
          '≤ 1 s',
          delays[9] <= 1000,
        );
        await stop(redisService);

        const limited = [
          await startService(database.url, {
            REDIS_URL,
            RATE_LIMIT_PER_KEY_PER_MINUTE: String(limit),
            RATE_LIMIT_PER_KEY_BATCH: String(batch),
          }),
          await startService(database.url, {
            REDIS_URL,
            RATE_LIMIT_PER_KEY_PER_MINUTE: String(limit),
            RATE_LIMIT_PER_KEY_BATCH: String(batch),
          }),
        ];
        procs.push(...limited);
        const trials: number[] = [];
        for (let t = 0; t < 3; t++) {
          const fresh = await api<IssuedKey>(service, 'POST', `/api/admin/instances/${instanceRef}/keys`, { name: `limit${t}` });
          const h = { 'X-API-Key': fresh.key };
          await roomInMinute(20);
          const results = await Promise.all(
            limited.map((s) => run(`${s.url}/api/auth/verify?service=trading`, h, { amount: limit * 1.5, connections: 25 })),
          );
          trials.push(results.reduce((sum, m) => sum + (limit * 1.5 - m.non2xx), 0));
          await api(service, 'POST', `/api/admin/instances/${instanceRef}/keys/${fresh.id}/revoke`);
        }
        const bound = limit + (limited.length - 1) * (batch - 1);
        row(
          `per-key limit ${limit}/min across 2 replicas with Redis, batch ${batch} (3 trials of ${limit * 3} requests)`,
          `passed ${trials.join(', ')}`,
          `max overshoot ${Math.max(...trials) - limit}`,
          `≤ limit + (replicas − 1) × (batch − 1) = ${bound}`,
          Math.max(...trials) <= bound && Math.min(...trials) >= limit,
        );
        for (const s of limited) await stop(s);
      } else {
        skipped('GET /api/auth/verify with REDIS_URL', `Redis not reachable at ${REDIS_URL} (BENCH_REDIS_URL)`, '≥ 0.50×');
        const other = await startService(database.url);
        procs.push(other);
        const delays = await propagation(service, other, instanceRef);
        row(
          'revocation seen by another replica',
          `median ${delays[5].toFixed(1)} ms, max ${delays[9].toFixed(1)} ms`,
          `${(delays[9] / 1000).toFixed(3)} s`,
          '≤ 1 s',
          delays[9] <= 1000,
        );
      }
    }

    row('service RSS under load (max)', `${Math.round(service.maxRssMb)} MB`, '', 'reported');

    // 7. Opt-in (BENCH_SCALE=1, a few minutes): the uncached lookup at 1k and 1M keys.
    if (process.env.BENCH_SCALE === '1') {
      await fillKeys(db, 1_000);
      const small = await lookupMs(db, key);
      log('filling instance_keys to 1,000,000 rows');
      await fillKeys(db, 1_000_000);
      const large = await lookupMs(db, key);
      row('uncached lookup query, 1k → 1M keys', `${small.toFixed(3)} → ${large.toFixed(3)} ms/query`, x(large / small), 'reported');
    }
  } finally {
    for (const g of gateways) await g.stop().catch(() => undefined);
    for (const p of procs) await stop(p).catch(() => undefined);
    await db.end().catch(() => undefined);
    await database.drop().catch(() => undefined);
  }

  const header = ['measure', 'result', 'p99', 'ratio', 'target', 'met'];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${[r.name, r.result, r.p99, r.ratio, r.target, r.met].join(' | ')} |`),
  ];
  const targets = rows.filter((r) => r.met !== '');
  const met = targets.filter((r) => r.met === 'met').length;
  process.stdout.write(
    `\nMachine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
      `${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${SECONDS} s, medians\n\n${lines.join('\n')}\n\n${met} of ${targets.length} targets met.\n`,
  );
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e.stack ?? e}\n`);
  process.exit(1);
});
